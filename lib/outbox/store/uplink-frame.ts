// The payload of a data record: the uplink, written so that reading it back is cheap. JSON.parse
// of a whole telemetry uplink costs ~1.4 µs, of its values alone ~0.3 µs (the frame around them,
// the strings "telemetry" and the device, the points array and objects, is most of the work),
// and JSON.stringify of a whole uplink walks again what the dialect serialised at accept. So
// telemetry and attributes, the bulk of the traffic, are framed:
//   u8 FRAME | u8 kind (1 telemetry, 2 attributes) | u16 LE device bytes | device (UTF-8)
//   telemetry:  u32 LE points, then per point: f64 LE ts (NaN: none) | u32 LE values bytes | values JSON
//   attributes: u32 LE values bytes | values JSON
// with the values' JSON taken from ThingsBoard's piece of a timestamped point
// (`{"ts":…,"values":…}`) when there is one, else one JSON.stringify of the values. Every other
// uplink (and values with a toJSON of their own) is its JSON, which never starts with FRAME.
// What comes back equals JSON.parse(JSON.stringify(uplink)) for the fields of its kind.
import type { Prepared } from "../../dialect/types";
import type { TelemetryPoint, Uplink, Values } from "../../records";
import type { Payload } from "./record";

const FRAME = 0x01;
const TELEMETRY = 1;
const ATTRIBUTES = 2;
const MAX_DEVICE = 0xffff;

/**
 * One payload being written (reused: no allocation per record). `set` prepares it; `max` is the
 * most bytes it can take (UTF-16 units → at most 3 bytes each); `write` puts it at `off`, returns
 * the end.
 */
export class PayloadWriter implements Payload {
  private kind = 0;
  private device = "";
  private points: TelemetryPoint[] = [];
  private values: string[] = [];
  private json = "";
  max = 0;

  /** Throws what JSON.stringify throws (a value that cannot be stored). */
  set(u: Uplink, p: Prepared | undefined): void {
    this.values.length = 0;
    this.kind = 0;
    if (u.kind === "telemetry" && typeof u.device === "string" && u.device.length * 3 <= MAX_DEVICE && Array.isArray(u.points) && this.telemetry(u.points, p)) {
      this.kind = TELEMETRY;
      this.device = u.device;
      this.points = u.points;
      this.max = 8 + u.device.length * 3 + u.points.length * 12;
    } else if (u.kind === "attributes" && typeof u.device === "string" && u.device.length * 3 <= MAX_DEVICE) {
      const v = objectJson(u.values);
      if (v !== undefined) {
        this.kind = ATTRIBUTES;
        this.device = u.device;
        this.values.push(v);
        this.max = 8 + u.device.length * 3;
      }
    }
    if (this.kind === 0) {
      this.json = JSON.stringify(u);
      this.max = this.json.length * 3;
      return;
    }
    for (const v of this.values) this.max += v.length * 3;
  }

  write(buf: Buffer, off: number): number {
    if (this.kind === 0) return off + buf.write(this.json, off, "utf8");
    buf[off] = FRAME;
    buf[off + 1] = this.kind;
    const n = writeString(buf, off + 4, this.device);
    buf.writeUInt16LE(n, off + 2);
    let at = off + 4 + n;
    if (this.kind === TELEMETRY) {
      buf.writeUInt32LE(this.points.length, at);
      at += 4;
      for (let i = 0; i < this.points.length; i++) {
        const ts = this.points[i].ts;
        buf.writeDoubleLE(ts === undefined ? NaN : ts, at);
        at = writeValues(buf, at + 8, this.values[i]);
      }
    } else at = writeValues(buf, at, this.values[0]);
    this.device = "";
    this.points = [];
    this.values.length = 0;
    return at;
  }

  /** The points' values JSON into `values`; false for anything unusual (the uplink is then JSON). */
  private telemetry(points: TelemetryPoint[], p: Prepared | undefined): boolean {
    const pieces = p && p.json.length === points.length ? p.json : undefined;
    for (let i = 0; i < points.length; i++) {
      const point = points[i];
      if (typeof point !== "object" || point === null) return false;
      const ts = point.ts;
      if (ts !== undefined && (typeof ts !== "number" || !Number.isFinite(ts))) return false;
      const piece = pieces?.[i];
      if (ts !== undefined && piece !== undefined) {
        const start = valuesIn(piece, ts);
        if (start > 0) {
          this.values.push(piece.slice(start, -1));
          continue;
        }
      }
      const v = objectJson(point.values);
      if (v === undefined) return false;
      this.values.push(v);
    }
    return true;
  }
}

/**
 * Where the values start in a piece that is exactly `{"ts":<ts>,"values":<values>}`, else -1. The
 * digits of an integer ts are compared in place (building the head to compare costs more than
 * the rest of the record); any other ts by its String().
 */
function valuesIn(piece: string, ts: number): number {
  if (!piece.startsWith('{"ts":') || piece.charCodeAt(piece.length - 1) !== 0x7d) return -1;
  let k = 6;
  if (Number.isSafeInteger(ts) && ts >= 0) {
    let v = 0;
    for (; k < piece.length; k++) {
      const d = piece.charCodeAt(k) - 48;
      if (d < 0 || d > 9) break;
      v = v * 10 + d;
    }
    if (v !== ts || k === 6 || (k > 7 && piece.charCodeAt(6) === 48)) return -1;
  } else {
    const t = String(ts);
    if (!piece.startsWith(t, 6)) return -1;
    k += t.length;
  }
  return piece.startsWith(',"values":', k) ? k + 10 : -1;
}

function writeValues(buf: Buffer, at: number, json: string): number {
  const n = writeString(buf, at + 4, json);
  buf.writeUInt32LE(n, at);
  return at + 4 + n;
}

/**
 * UTF-8 of `s` at `off`, its byte count. A short ASCII string is copied here: a Buffer.write
 * costs ~0.1 µs of call into C++ whatever its length, a record's strings are a few dozen bytes.
 */
function writeString(buf: Buffer, off: number, s: string): number {
  const len = s.length;
  if (len <= 64) {
    let i = 0;
    for (; i < len; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      buf[off + i] = c;
    }
    if (i === len) return len;
  }
  return buf.write(s, off, "utf8");
}

/** JSON.stringify of an object without a toJSON of its own (the common case), else undefined. */
function objectJson(v: unknown): string | undefined {
  if (typeof v !== "object" || v === null || typeof (v as { toJSON?: unknown }).toJSON === "function") return undefined;
  return JSON.stringify(v);
}

/** What `readUplink` rebuilds of the dialect's prepared form, when asked (one object, reused). */
export const readBack: { prepared: Prepared | undefined } = { prepared: undefined };

/**
 * The uplink of a data record's payload buf[start, end). Throws on a payload that is neither a frame nor JSON.
 * With `pieces` (the dialect's telemetry form, types.ts), a telemetry frame's Prepared is rebuilt
 * from the values JSON it holds into `readBack.prepared` (else that is undefined): what `prepare`
 * would make of the uplink read back, without serialising it again.
 */
export function readUplink(buf: Buffer, start: number, end: number, pieces?: "ts-values"): Uplink {
  readBack.prepared = undefined;
  if (buf[start] !== FRAME) return JSON.parse(buf.toString("utf8", start, end)) as Uplink;
  const kind = buf[start + 1];
  const n = buf.readUInt16LE(start + 2);
  let at = start + 4 + n;
  if (at > end) throw new Error("a frame longer than its record");
  const device = deviceName(buf, start + 4, at);
  if (kind === ATTRIBUTES) {
    const values = readValues(buf, at, end);
    return { kind: "attributes", device, values };
  }
  if (kind !== TELEMETRY) throw new Error(`a frame of unknown kind ${kind}`);
  const count = buf.readUInt32LE(at);
  at += 4;
  if (count === 1 && pieces) {
    // One point (most records): literal one-element arrays, nothing else.
    const ts = buf.readDoubleLE(at);
    const values = readValues(buf, at + 8, end);
    const none = Number.isNaN(ts);
    const keys = keyCount(values);
    readBack.prepared = none
      ? { json: [valuesJson], bytes: [valuesBytes], points: [keys], total: keys }
      : { json: ['{"ts":' + String(ts) + ',"values":' + valuesJson + "}"], bytes: [valuesBytes + tsBytes(ts) + 17], points: [keys], total: keys };
    return { kind: "telemetry", device, points: [none ? { values } : { ts, values }] };
  }
  const points: TelemetryPoint[] = new Array<TelemetryPoint>(count);
  const p: Required<Omit<Prepared, "fields">> | undefined = pieces ? { json: new Array<string>(count), bytes: new Array<number>(count), points: new Array<number>(count), total: 0 } : undefined;
  for (let i = 0; i < count; i++) {
    const ts = buf.readDoubleLE(at);
    const values = readValues(buf, at + 8, end);
    at = valuesEnd;
    const none = Number.isNaN(ts);
    points[i] = none ? { values } : { ts, values };
    if (p) {
      // JSON.stringify writes a finite number as its String(); the values are the JSON they were sent as.
      p.json[i] = none ? valuesJson : '{"ts":' + String(ts) + ',"values":' + valuesJson + "}";
      p.bytes[i] = none ? valuesBytes : valuesBytes + tsBytes(ts) + 17;
      const keys = keyCount(values);
      p.points[i] = keys;
      p.total += keys;
    }
  }
  readBack.prepared = p;
  return { kind: "telemetry", device, points };
}

/** Device names read back, by a hash of their bytes (a backlog names the same few devices over and over). */
const names = new Map<number, string>();
const MAX_NAMES = 4096;

/**
 * The UTF-8 name in buf[start, end): a short ASCII one from `names` when it is there (a
 * Buffer.toString costs ~0.1 µs of call into C++, hashing and comparing a few dozen bytes less).
 */
function deviceName(buf: Buffer, start: number, end: number): string {
  if (end - start > 64) return buf.toString("utf8", start, end);
  let h = end - start;
  for (let i = start; i < end; i++) {
    const c = buf[i];
    if (c >= 0x80) return buf.toString("utf8", start, end);
    h = (Math.imul(h, 31) + c) | 0;
  }
  const known = names.get(h);
  if (known !== undefined && known.length === end - start) {
    let i = 0;
    while (i < known.length && known.charCodeAt(i) === buf[start + i]) i++;
    if (i === known.length) return known;
  }
  const name = buf.toString("latin1", start, end); // ASCII: latin1 is its UTF-8
  if (names.size >= MAX_NAMES) names.clear();
  names.set(h, name);
  return name;
}

/** The data points of a values object as `prepare` counts them (its keys). */
function keyCount(values: Values): number {
  let keys = 0;
  for (const _ in values) keys++;
  return keys;
}

/** Bytes of String(ts) for a finite ts (JSON.stringify writes a number as its String()); an integer ms timestamp without building it. */
function tsBytes(ts: number): number {
  if (Number.isSafeInteger(ts) && ts >= 1e12 && ts < 1e13) return 13;
  return String(ts).length;
}

/** The JSON text, its bytes and the end of the values `readValues` read last (no object per point). */
let valuesJson = "";
let valuesBytes = 0;
let valuesEnd = 0;

function readValues(buf: Buffer, at: number, end: number): Values {
  const n = buf.readUInt32LE(at);
  const stop = at + 4 + n;
  if (stop > end) throw new Error("a frame longer than its record");
  valuesJson = buf.toString("utf8", at + 4, stop);
  valuesBytes = n;
  valuesEnd = stop;
  return JSON.parse(valuesJson) as Values;
}
