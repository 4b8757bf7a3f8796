// Independent of the codec: how a device in a given order puts a value's bytes into registers.
import type { DataType, Order } from "../../lib/modbus/types";

/** Big-endian bytes -> registers as a device in `order` sends them. */
export function wire(be: number[], order: Order): number[] {
  const bytes = order === "DCBA" ? [...be].reverse() : [...be];
  if (order === "BADC" || order === "CDAB") {
    // BADC: swap the two bytes of each register; CDAB: registers in reverse order
    const words: number[][] = [];
    for (let i = 0; i < bytes.length; i += 2) words.push([bytes[i], bytes[i + 1]]);
    const w = order === "CDAB" ? words.reverse() : words.map(([a, b]) => [b, a]);
    return w.map(([a, b]) => (a << 8) | b);
  }
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i += 2) out.push((bytes[i] << 8) | bytes[i + 1]);
  return out;
}

/** A value's big-endian bytes. */
export function be(type: DataType, v: number | bigint): number[] {
  const size = { int16: 2, uint16: 2, int32: 4, uint32: 4, float32: 4, int64: 8, uint64: 8, float64: 8 }[type as "int16"];
  const b = Buffer.alloc(size);
  switch (type) {
    case "int16": b.writeInt16BE(Number(v)); break;
    case "uint16": b.writeUInt16BE(Number(v)); break;
    case "int32": b.writeInt32BE(Number(v)); break;
    case "uint32": b.writeUInt32BE(Number(v)); break;
    case "float32": b.writeFloatBE(Number(v)); break;
    case "float64": b.writeDoubleBE(Number(v)); break;
    case "int64": b.writeBigInt64BE(BigInt(v)); break;
    case "uint64": b.writeBigUInt64BE(BigInt(v)); break;
    default: throw new Error(`no byte form for ${type}`);
  }
  return [...b];
}
