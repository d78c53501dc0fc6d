/**
 * The static model's weighted sum of piece rows: float32 rows added into float64 sums, in the
 * pieces' order. With WebAssembly SIMD (every Node.js Engram supports) two components are added
 * per instruction, 3 to 5 times faster than the JavaScript loop; the sums are the same to the last
 * bit (each float32 is widened exactly, then one float64 multiply and one add, rounded as in
 * JavaScript: WebAssembly never fuses them). The JavaScript loop stays for a runtime without it.
 */

/** Sums of weighted rows over a table of `pieces` rows of `dims` float32 values. */
export interface RowSums {
  /** The table's rows, row `id` at `id * dims`; written by the caller before a row is added. */
  readonly rows: Float32Array;
  /** The running sums (`dims` values), read after the adds. */
  readonly sum: Float64Array;
  /** Sets every sum to 0. */
  clear(): void;
  /** `sum[d] += weight * rows[id * dims + d]` for every d. */
  add(id: number, weight: number): void;
  /** Which implementation runs (tests cover both). */
  readonly kind: "wasm" | "js";
}

/**
 * `add(rowByte: i32, weight: f64, rowBytes: i32)` over an imported memory that holds the sums
 * (float64) from byte 0 and the rows after them: per step, four float32 of the row are widened
 * (low pair, then the high pair moved down), multiplied by the weight and added to four sums.
 */
const ADD_BODY = [
  // Locals: i (i32), then wv and x (v128); params are row (0), weight (1), rowBytes (2).
  2, 1, 0x7f, 2, 0x7b,
  0x20, 1, 0xfd, 0x14, 0x21, 4, // wv = f64x2.splat(weight)
  0x41, 0, 0x21, 3, // i = 0
  0x03, 0x40, // loop
  0x20, 0, 0x20, 3, 0x6a, 0xfd, 0x00, 4, 0, 0x21, 5, // x = v128.load(row + i)
  0x20, 3, 0x41, 1, 0x74, // (i << 1): the sums' byte for the row's byte i
  0x20, 3, 0x41, 1, 0x74, 0xfd, 0x00, 3, 0, // sums[0..1]
  0x20, 5, 0xfd, 0x5f, 0x20, 4, 0xfd, 0xf2, 0x01, 0xfd, 0xf0, 0x01, // + promote_low(x) * wv
  0xfd, 0x0b, 3, 0, // store
  0x20, 3, 0x41, 1, 0x74,
  0x20, 3, 0x41, 1, 0x74, 0xfd, 0x00, 3, 16, // sums[2..3]
  0x20, 5, 0x20, 5, 0xfd, 0x0d, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7, // x's high pair, moved low
  0xfd, 0x5f, 0x20, 4, 0xfd, 0xf2, 0x01, 0xfd, 0xf0, 0x01,
  0xfd, 0x0b, 3, 16, // store
  0x20, 3, 0x41, 16, 0x6a, 0x21, 3, // i += 16
  0x20, 3, 0x20, 2, 0x49, 0x0d, 0, // loop while i < rowBytes
  0x0b,
  0x0b,
];

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

const section = (id: number, bytes: number[]): number[] => [id, ...leb(bytes.length), ...bytes];
const name = (text: string): number[] => [text.length, ...Array.from(text, (c) => c.charCodeAt(0))];

/** The module: one type (i32, f64, i32) -> (), memory imported as env.memory, `add` exported. */
const MODULE = new Uint8Array([
  0, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
  ...section(1, [1, 0x60, 3, 0x7f, 0x7c, 0x7f, 0]),
  ...section(2, [1, ...name("env"), ...name("memory"), 2, 0, 1]),
  ...section(3, [1, 0]),
  ...section(7, [1, ...name("add"), 0, 0]),
  ...section(10, [1, ...leb(ADD_BODY.length), ...ADD_BODY]),
]);

const PAGE = 65_536;

/** The part of the WebAssembly API used here (its global is not in the ES lib's types). */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Memory: new (descriptor: { initial: number }) => { buffer: ArrayBuffer };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> };
}

const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

/**
 * Row sums for a table of `pieces` rows of `dims` values: WebAssembly when the runtime has SIMD
 * and `dims` is a multiple of 4, else JavaScript. `prefer: "js"` forces the JavaScript loop.
 */
export function rowSums(pieces: number, dims: number, prefer: "wasm" | "js" = "wasm"): RowSums {
  if (prefer === "wasm" && wasm !== undefined && dims % 4 === 0 && wasm.validate(MODULE)) {
    try {
      return wasmSums(wasm, pieces, dims);
    } catch {
      // No room for the memory (a capped address space): the JavaScript loop computes the same.
    }
  }
  return jsSums(pieces, dims);
}

function wasmSums(api: WasmApi, pieces: number, dims: number): RowSums {
  const sumBytes = dims * 8;
  const rowBytes = dims * 4;
  // Pages untouched stay unallocated: only the rows of pieces in use take memory.
  const memory = new api.Memory({ initial: Math.ceil((sumBytes + pieces * rowBytes) / PAGE) });
  const instance = new api.Instance(new api.Module(MODULE), { env: { memory } });
  const add = instance.exports.add as (row: number, weight: number, rowBytes: number) => void;
  const sum = new Float64Array(memory.buffer, 0, dims);
  return {
    kind: "wasm",
    rows: new Float32Array(memory.buffer, sumBytes, pieces * dims),
    sum,
    clear: () => sum.fill(0),
    add: (id, weight) => add(sumBytes + id * rowBytes, weight, rowBytes),
  };
}

function jsSums(pieces: number, dims: number): RowSums {
  const rows = new Float32Array(pieces * dims);
  const sum = new Float64Array(dims);
  return {
    kind: "js",
    rows,
    sum,
    clear: () => sum.fill(0),
    add: (id, weight) => {
      // Eight components a step: V8 does not unroll, and the loop's own work is then a third.
      let r = id * dims;
      let d = 0;
      for (; d + 8 <= dims; d += 8, r += 8) {
        sum[d]! += weight * rows[r]!;
        sum[d + 1]! += weight * rows[r + 1]!;
        sum[d + 2]! += weight * rows[r + 2]!;
        sum[d + 3]! += weight * rows[r + 3]!;
        sum[d + 4]! += weight * rows[r + 4]!;
        sum[d + 5]! += weight * rows[r + 5]!;
        sum[d + 6]! += weight * rows[r + 6]!;
        sum[d + 7]! += weight * rows[r + 7]!;
      }
      for (; d < dims; d += 1, r += 1) sum[d]! += weight * rows[r]!;
    },
  };
}
