// What both runtimes of LocalEmbeddings feed the model's tokenizer (local_worker.mjs,
// local_onnx_worker.mjs). Plain JavaScript, as the workers that import it.

/**
 * The text as the model reads it: whitespace runs made one space, trimmed. The tokenizer splits on
 * whitespace and an empty string breaks it, so an empty text is read as ".".
 * @param {string} text
 * @returns {string}
 */
export function modelText(text) {
  const trimmed = text.replace(/\s+/g, " ").trim();
  return trimmed.length > 0 ? trimmed : ".";
}
