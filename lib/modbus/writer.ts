// Writes by key: values are encoded (scale/offset inverted, range-checked) and checked all
// together before anything goes on the wire, so a bad value never leaves a half-applied write.
// Keys at consecutive addresses are merged: FC5/FC6 for one coil/16-bit register, FC15/FC16 for
// several, and FC16 always for multi-register types.
import { decodeRegisters, encodeBit, encodeRegisters, entryWidth } from "./codec";
import { ModbusError, errorMessage } from "./errors";
import type { ModbusLine, RequestOptions } from "./line";
import { assertValidMap } from "./register-map";
import type { MapEntry, Value } from "./types";

export const MAX_WRITE_COILS = 1968;
export const MAX_WRITE_REGISTERS = 123;

export interface WriteOptions {
  /** Use FC15/FC16 even for a single coil/register, for devices without FC5/FC6. */
  alwaysMultiple?: boolean;
}

export interface WriteOp {
  fc: 5 | 6 | 15 | 16;
  area: "coil" | "holding";
  address: number;
  /** booleans for coils, register words for holding. */
  values: boolean[] | number[];
  keys: string[];
}

interface Piece {
  e: MapEntry;
  words?: number[];
  bit?: boolean;
}

/** Encodes and groups a write; throws one ModbusError listing every problem. Pure. */
export function planWrites(entries: readonly MapEntry[], values: Record<string, Value>, opts: WriteOptions = {}): WriteOp[] {
  const byKey = new Map(entries.map((e) => [e.key, e]));
  const errors: string[] = [];
  const pieces: Piece[] = [];
  const keys = Object.keys(values);
  if (keys.length === 0) throw new ModbusError("config", "nothing to write: give at least one key and value");
  for (const key of keys) {
    const e = byKey.get(key);
    if (!e) { errors.push(`unknown key ${key}`); continue; }
    if (!e.writable) { errors.push(`key ${key} is not writable`); continue; }
    try {
      pieces.push(e.area === "coil" ? { e, bit: encodeBit(e, values[key]) } : { e, words: encodeRegisters(e, values[key]) });
    } catch (err) {
      errors.push(errorMessage(err));
    }
  }
  if (errors.length) throw new ModbusError(errors.every((m) => /out of range|expected|at most/.test(m)) ? "range" : "config", `cannot write: ${errors.join("; ")}`);

  const ops: WriteOp[] = [];
  for (const area of ["coil", "holding"] as const) {
    const mine = pieces.filter((p) => p.e.area === area).sort((a, b) => a.e.address - b.e.address);
    const limit = area === "coil" ? MAX_WRITE_COILS : MAX_WRITE_REGISTERS;
    let cur: { address: number; end: number; values: (boolean | number)[]; keys: string[]; wide: boolean } | undefined;
    const flush = (): void => {
      if (!cur) return;
      const single = cur.values.length === 1 && !cur.wide && !opts.alwaysMultiple;
      ops.push({
        fc: area === "coil" ? (single ? 5 : 15) : single ? 6 : 16,
        area,
        address: cur.address,
        values: cur.values as boolean[] | number[],
        keys: cur.keys,
      });
      cur = undefined;
    };
    for (const p of mine) {
      const width = area === "coil" ? 1 : entryWidth(p.e);
      const vals: (boolean | number)[] = area === "coil" ? [p.bit as boolean] : (p.words as number[]);
      if (cur && p.e.address <= cur.end) {
        throw new ModbusError("config", `cannot write: keys ${cur.keys[cur.keys.length - 1]} and ${p.e.key} overlap at ${area} ${p.e.address}`);
      }
      if (cur && p.e.address === cur.end + 1 && cur.values.length + width <= limit) {
        cur.values.push(...vals);
        cur.end += width;
        cur.keys.push(p.e.key);
        cur.wide = true;
        continue;
      }
      flush();
      cur = { address: p.e.address, end: p.e.address + width - 1, values: [...vals], keys: [p.e.key], wide: width > 1 };
    }
    flush();
  }
  return ops;
}

export class UnitWriter {
  readonly entries: readonly MapEntry[];

  constructor(private readonly line: ModbusLine, readonly unitId: number, map: MapEntry[], private readonly options: WriteOptions = {}) {
    this.entries = assertValidMap(map);
  }

  /** Writes {key: value, ...}; resolves with what went on the wire. */
  async write(values: Record<string, Value>, opts?: RequestOptions): Promise<WriteOp[]> {
    const ops = planWrites(this.entries, values, this.options);
    for (const op of ops) {
      const u = this.unitId;
      switch (op.fc) {
        case 5: await this.line.writeCoil(u, op.address, (op.values as boolean[])[0], opts); break;
        case 15: await this.line.writeCoils(u, op.address, op.values as boolean[], opts); break;
        case 6: await this.line.writeRegister(u, op.address, (op.values as number[])[0], opts); break;
        case 16: await this.line.writeRegisters(u, op.address, op.values as number[], opts); break;
      }
    }
    return ops;
  }

  /** Reads one key now, decoded as in a poll. */
  async get(key: string, opts?: RequestOptions): Promise<Value> {
    const e = this.entries.find((x) => x.key === key);
    if (!e) throw new ModbusError("config", `unknown key ${key}`);
    if (e.area === "coil" || e.area === "discrete") {
      return (await this.line.readBits(this.unitId, e.area, e.address, 1, opts))[0];
    }
    const regs = await this.line.readRegisters(this.unitId, e.area, e.address, entryWidth(e), opts);
    return decodeRegisters(e, regs);
  }
}
