// Register/bit <-> value conversion. Pure.
//
// 64-bit integers: decoded through BigInt; a result within ±(2^53 - 1) is a number, one beyond it
// is a decimal string (telemetry must be JSON and must not silently lose digits). With a scale,
// offset or rounding configured the result is always a number (the user asked for arithmetic).
// On write, int64/uint64 accept a number or a decimal string.
import { ModbusError } from "./errors";
import type { DataType, MapEntry, Order, Value } from "./types";

/** Registers (or, for bool, bits) one value of `type` occupies. */
export function widthOf(type: DataType, length?: number): number {
  switch (type) {
    case "bool":
    case "bit":
    case "int16":
    case "uint16":
      return 1;
    case "int32":
    case "uint32":
    case "float32":
      return 2;
    case "int64":
    case "uint64":
    case "float64":
      return 4;
    case "string":
      return length ?? 1;
  }
}

export function entryWidth(e: MapEntry): number {
  return widthOf(e.type, e.length);
}

const INT_RANGE: Partial<Record<DataType, [bigint, bigint]>> = {
  int16: [-(2n ** 15n), 2n ** 15n - 1n],
  uint16: [0n, 2n ** 16n - 1n],
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
};

const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * Registers as they arrive -> bytes in big-endian (ABCD) order, or back: both swaps are their
 * own inverse, so the same function converts either way.
 */
export function reorder(words: readonly number[], order: Order, isString = false): number[] {
  const swapBytes = order === "BADC" || order === "DCBA";
  const reverseWords = !isString && (order === "CDAB" || order === "DCBA");
  const out = reverseWords ? [...words].reverse() : [...words];
  return swapBytes ? out.map((w) => ((w & 0xff) << 8) | ((w >> 8) & 0xff)) : out;
}

function toBuffer(words: readonly number[]): Buffer {
  const buf = Buffer.alloc(words.length * 2);
  words.forEach((w, i) => buf.writeUInt16BE(w & 0xffff, i * 2));
  return buf;
}

function fromBuffer(buf: Buffer): number[] {
  const words: number[] = [];
  for (let i = 0; i < buf.length; i += 2) words.push(buf.readUInt16BE(i));
  return words;
}

function hasArithmetic(e: MapEntry): boolean {
  return (e.scale !== undefined && e.scale !== 1) || (e.offset !== undefined && e.offset !== 0) || e.round !== undefined;
}

function applyScale(raw: number, e: MapEntry): number {
  let v = raw * (e.scale ?? 1) + (e.offset ?? 0);
  if (e.round !== undefined) v = Number(v.toFixed(e.round));
  return v;
}

/** Decodes one entry from the registers it occupies (exactly `entryWidth(e)` of them). */
export function decodeRegisters(e: MapEntry, regs: readonly number[]): Value {
  const width = entryWidth(e);
  if (regs.length !== width) {
    throw new ModbusError("range", `${e.key}: expected ${width} registers, got ${regs.length}`);
  }
  const order = e.order ?? "ABCD";
  if (e.type === "bit") return ((regs[0] >> (e.bit ?? 0)) & 1) === 1;
  if (e.type === "string") {
    const buf = toBuffer(reorder(regs, order, true));
    const end = buf.indexOf(0);
    return buf.toString("latin1", 0, end < 0 ? buf.length : end);
  }
  const buf = toBuffer(reorder(regs, order));
  let raw: number;
  switch (e.type) {
    case "int16": raw = buf.readInt16BE(0); break;
    case "uint16": raw = buf.readUInt16BE(0); break;
    case "int32": raw = buf.readInt32BE(0); break;
    case "uint32": raw = buf.readUInt32BE(0); break;
    case "float32": raw = buf.readFloatBE(0); break;
    case "float64": raw = buf.readDoubleBE(0); break;
    case "int64":
    case "uint64": {
      const big = e.type === "int64" ? buf.readBigInt64BE(0) : buf.readBigUInt64BE(0);
      const n = Number(big);
      if (!hasArithmetic(e) && !Number.isSafeInteger(n)) return big.toString();
      raw = n;
      break;
    }
    default:
      throw new ModbusError("config", `${e.key}: type ${e.type} is not a register type`);
  }
  return hasArithmetic(e) ? applyScale(raw, e) : raw;
}

/** Decodes a bool entry (coil / discrete input). */
export function decodeBit(_e: MapEntry, bit: boolean): boolean {
  return bit;
}

function toBool(e: MapEntry, value: Value): boolean {
  if (typeof value === "boolean") return value;
  if (value === 0 || value === 1) return value === 1;
  if (value === "true" || value === "false") return value === "true";
  throw new ModbusError("range", `${e.key}: expected true/false (or 1/0), got ${JSON.stringify(value)}`);
}

/** A coil's value to write. */
export function encodeBit(e: MapEntry, value: Value): boolean {
  return toBool(e, value);
}

function toNumber(e: MapEntry, value: Value): number {
  const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  if (typeof n === "boolean") return n ? 1 : 0;
  if (typeof n !== "number" || !Number.isFinite(n)) {
    throw new ModbusError("range", `${e.key}: expected a finite number, got ${JSON.stringify(value)}`);
  }
  return n;
}

function rangeError(e: MapEntry, value: Value, lo: bigint | number, hi: bigint | number): ModbusError {
  const scaled = hasArithmetic(e) ? " after removing scale/offset" : "";
  return new ModbusError("range", `${e.key}: ${JSON.stringify(value)} is out of range for ${e.type}${scaled} (${lo}..${hi})`);
}

/** The registers to write for `value`: (value - offset) / scale, range-checked for the type. */
export function encodeRegisters(e: MapEntry, value: Value): number[] {
  const order = e.order ?? "ABCD";
  if (e.type === "bool" || e.type === "bit") {
    throw new ModbusError("config", `${e.key}: ${e.type} is not written as registers`);
  }
  if (e.type === "string") {
    const s = String(value);
    const width = entryWidth(e);
    if (s.length > width * 2 || !/^[\x00-\xff]*$/.test(s)) {
      throw new ModbusError("range", `${e.key}: string must be at most ${width * 2} latin-1 characters, got ${JSON.stringify(s)}`);
    }
    const buf = Buffer.alloc(width * 2);
    buf.write(s, "latin1");
    return reorder(fromBuffer(buf), order, true);
  }
  const width = entryWidth(e);
  const buf = Buffer.alloc(width * 2);
  if (e.type === "float32" || e.type === "float64") {
    const raw = (toNumber(e, value) - (e.offset ?? 0)) / (e.scale ?? 1);
    if (!Number.isFinite(raw) || (e.type === "float32" && Math.abs(raw) > FLOAT32_MAX)) {
      throw rangeError(e, value, e.type === "float32" ? -FLOAT32_MAX : -Number.MAX_VALUE, e.type === "float32" ? FLOAT32_MAX : Number.MAX_VALUE);
    }
    if (e.type === "float32") buf.writeFloatBE(raw, 0);
    else buf.writeDoubleBE(raw, 0);
    return reorder(fromBuffer(buf), order);
  }
  const [lo, hi] = INT_RANGE[e.type] as [bigint, bigint];
  let raw: bigint;
  if (typeof value === "string" && /^-?\d+$/.test(value.trim()) && !hasArithmetic(e)) {
    raw = BigInt(value.trim()); // exact path for 64-bit values beyond 2^53
  } else {
    const r = Math.round((toNumber(e, value) - (e.offset ?? 0)) / (e.scale ?? 1));
    if (!Number.isFinite(r)) throw rangeError(e, value, lo, hi);
    raw = BigInt(r);
  }
  if (raw < lo || raw > hi) throw rangeError(e, value, lo, hi);
  switch (e.type) {
    case "int16": buf.writeInt16BE(Number(raw), 0); break;
    case "uint16": buf.writeUInt16BE(Number(raw), 0); break;
    case "int32": buf.writeInt32BE(Number(raw), 0); break;
    case "uint32": buf.writeUInt32BE(Number(raw), 0); break;
    case "int64": buf.writeBigInt64BE(raw, 0); break;
    case "uint64": buf.writeBigUInt64BE(raw, 0); break;
  }
  return reorder(fromBuffer(buf), order);
}
