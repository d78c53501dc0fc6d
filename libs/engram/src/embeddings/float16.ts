/**
 * IEEE 754 half precision, for the static model's table: half the size of float32 and, measured on
 * LoCoMo, the same recall (the table's values are unit-vector components, well inside its range).
 */

let table: Float32Array | undefined;

/**
 * Every one of the 65,536 half-precision values as float32, built once (256 KB) by moving bits,
 * which is fast even before the JIT warms up: it runs on the first embedding.
 */
export function float16Table(): Float32Array {
  if (table) return table;
  const values = new Float32Array(65_536);
  const bits32 = new Uint32Array(values.buffer);
  for (let bits = 0; bits < 65_536; bits += 1) {
    const exponent = (bits >> 10) & 0x1f;
    if (exponent === 0 || exponent === 0x1f) {
      values[bits] = decodeFloat16(bits);
    } else {
      // Same sign, exponent rebased from 15 to 127, fraction widened from 10 to 23 bits.
      bits32[bits] = ((bits & 0x8000) << 16) | ((exponent + 112) << 23) | ((bits & 0x3ff) << 13);
    }
  }
  table = values;
  return values;
}

export function decodeFloat16(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** Nearest half-precision value (ties to even), as its 16 bits. */
export function encodeFloat16(value: number): number {
  if (Number.isNaN(value)) return 0x7e00;
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const abs = Math.abs(value);
  if (abs >= 65_520) return sign | 0x7c00;
  if (abs < 2 ** -14) {
    // Subnormal: a multiple of 2^-24.
    return sign | roundHalfEven(abs / 2 ** -24);
  }
  let exponent = Math.floor(Math.log2(abs));
  // log2 can be off by one at exact powers of two.
  if (2 ** exponent > abs) exponent -= 1;
  else if (2 ** (exponent + 1) <= abs) exponent += 1;
  let fraction = roundHalfEven((abs / 2 ** exponent - 1) * 1024);
  if (fraction === 1024) {
    fraction = 0;
    exponent += 1;
  }
  if (exponent > 15) return sign | 0x7c00;
  return sign | ((exponent + 15) << 10) | fraction;
}

function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}
