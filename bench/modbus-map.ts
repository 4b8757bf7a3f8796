// The register map of the Modbus benchmark: 5 units (say five power meters on one TCP
// gateway), 40 registers each, 200 in all, as a user would configure them as keys: holding
// registers with status and setpoints, input registers with measurements, int16/uint16/
// float32/uint32 over four address blocks per unit with small gaps between them.
// node-red-contrib-modbus gets the same map two ways: one modbus-read per key (how typed values
// are configured there: each key its own read, decoded downstream) and one modbus-read per
// contiguous block (the friendlier hand-made grouping).
import type { Area, DataType, MapEntry } from "../lib/modbus";

export const UNITS = [1, 2, 3, 4, 5];

type Key = [key: string, area: Area, address: number, type: DataType, scale?: number];

/** One unit's keys (the same for every unit). */
const KEYS: Key[] = [
  // holding 100..109: status and setpoints
  ["status", "holding", 100, "uint16"],
  ["mode", "holding", 101, "uint16"],
  ["setpointTemp", "holding", 102, "int16", 0.1],
  ["setpointHumidity", "holding", 103, "int16", 0.1],
  ["setpointFlow", "holding", 104, "float32"],
  ["runHours", "holding", 106, "uint32"],
  ["alarmWord", "holding", 108, "uint16"],
  ["warningWord", "holding", 109, "uint16"],
  // gap 110..113 (4 registers)
  // holding 114..123: limits and counters
  ["limitHigh", "holding", 114, "float32"],
  ["limitLow", "holding", 116, "float32"],
  ["hysteresis", "holding", 118, "float32"],
  ["starts", "holding", 120, "uint32"],
  ["offsetTemp", "holding", 122, "int16", 0.1],
  ["firmware", "holding", 123, "uint16"],
  // input 0..11: voltages and currents
  ["voltageL1", "input", 0, "float32"],
  ["voltageL2", "input", 2, "float32"],
  ["voltageL3", "input", 4, "float32"],
  ["currentL1", "input", 6, "float32"],
  ["currentL2", "input", 8, "float32"],
  ["currentL3", "input", 10, "float32"],
  // gap 12..13 (2 registers)
  // input 14..21: power, energy, temperature, frequency
  ["power", "input", 14, "float32"],
  ["powerFactor", "input", 16, "float32"],
  ["energy", "input", 18, "uint32"],
  ["temperature", "input", 20, "int16", 0.1],
  ["frequency", "input", 21, "uint16", 0.01],
];

const WIDTH: Record<string, number> = { int16: 1, uint16: 1, float32: 2, uint32: 2 };

export function unitMap(): MapEntry[] {
  return KEYS.map(([key, area, address, type, scale]) => (scale === undefined ? { key, area, address, type } : { key, area, address, type, scale }));
}

/** Registers the map names per unit (no gaps). */
export function registersPerUnit(): number {
  return KEYS.reduce((n, k) => n + WIDTH[k[3]], 0);
}

export interface Read {
  area: "holding" | "input";
  address: number;
  quantity: number;
}

/** One read per key (node-red-contrib-modbus as configured for typed values). */
export function perKeyReads(): Read[] {
  return KEYS.map(([, area, address, type]) => ({ area: area as Read["area"], address, quantity: WIDTH[type] }));
}

/** One read per contiguous block of keys. */
export function perBlockReads(): Read[] {
  const out: Read[] = [];
  for (const r of perKeyReads()) {
    const last = out[out.length - 1];
    if (last && last.area === r.area && last.address + last.quantity === r.address) last.quantity += r.quantity;
    else out.push({ ...r });
  }
  return out;
}

/** Deterministic, plausible register contents for the server (same for every unit but the unit id in `status`). */
export function seedRegisters(unit: number): { holding: Map<number, number>; input: Map<number, number> } {
  const holding = new Map<number, number>();
  const input = new Map<number, number>();
  const f32 = (table: Map<number, number>, a: number, v: number): void => {
    const b = Buffer.alloc(4);
    b.writeFloatBE(v);
    table.set(a, b.readUInt16BE(0));
    table.set(a + 1, b.readUInt16BE(2));
  };
  const u32 = (table: Map<number, number>, a: number, v: number): void => {
    table.set(a, Math.floor(v / 65536) & 0xffff);
    table.set(a + 1, v & 0xffff);
  };
  let i = 0;
  for (const [, area, address, type] of KEYS) {
    const t = area === "holding" ? holding : input;
    i++;
    if (type === "float32") f32(t, address, 230 + unit + i / 10);
    else if (type === "uint32") u32(t, address, 100000 * unit + i);
    else t.set(address, (unit * 100 + i) & 0xffff);
  }
  return { holding, input };
}
