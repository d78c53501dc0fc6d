import { jest } from "@jest/globals";

/**
 * Process warnings with `code`, from a spy on `process.emitWarning` (Jest's sandbox hides the
 * `warning` event). `stop()` restores the real one.
 */
export function warningsWithCode(code: string): { seen: string[]; stop(): void } {
  const seen: string[] = [];
  const spy = jest.spyOn(process, "emitWarning").mockImplementation(((warning: string | Error, options?: { code?: string }) => {
    if (options?.code === code) seen.push(String(warning));
  }) as typeof process.emitWarning);
  return { seen, stop: () => spy.mockRestore() };
}
