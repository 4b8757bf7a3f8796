// Reading back a data record's payload (uplink-frame.ts writes it): a frame of telemetry,
// attributes or the dialect's pieces, or the uplink's JSON; and, with the dialect's telemetry form,
// the Prepared that `prepare` would make of it, without serialising it again (and, for a frame of
// counted pieces, without parsing it: its uplink is a PieceTelemetry).
import { OnePoint } from "../../dialect/one-point";
import type { Prepared } from "../../dialect/types";
import type { TelemetryPoint, Uplink, Values } from "../../records";
import { pointOf, PieceTelemetry } from "./piece-telemetry";
import { ATTRIBUTES, COUNTED, FRAME, PIECES, TELEMETRY } from "./uplink-frame";

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
  if (kind === COUNTED) return readCounted(buf, at, end, device, pieces);
  if (kind === PIECES) return readPieces(buf, at, end, device, pieces);
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

/**
 * A counted pieces frame's telemetry from `at` (its point count). With `pieces`, nothing is
 * parsed: the Prepared is the pieces and counts as they were written, and the uplink's points
 * are parsed from them only when something reads them (the drain sends the pieces and never
 * does: parsing them was a quarter of its time, and most of what it left to the GC).
 */
function readCounted(buf: Buffer, at: number, end: number, device: string, pieces: "ts-values" | undefined): Uplink {
  const count = buf.readUInt32LE(at);
  at += 4;
  if (count === 1) {
    if (at + 5 > end) throw new Error("a frame longer than its record");
    const timed = buf[at] === 1;
    const keys = buf.readUInt32LE(at + 1);
    const json = readText(buf, at + 5, end);
    if (!pieces) return { kind: "telemetry", device, points: [pointOf(json, timed)] };
    readBack.prepared = new OnePoint(json, valuesBytes, keys);
    return new PieceTelemetry(device, json, timed);
  }
  const json = new Array<string>(count);
  const bytes = new Array<number>(count);
  const points = new Array<number>(count);
  const timed = new Array<boolean>(count);
  let total = 0;
  for (let i = 0; i < count; i++) {
    if (at + 5 > end) throw new Error("a frame longer than its record");
    timed[i] = buf[at] === 1;
    const keys = buf.readUInt32LE(at + 1);
    json[i] = readText(buf, at + 5, end);
    at = valuesEnd;
    bytes[i] = valuesBytes;
    points[i] = keys;
    total += keys;
  }
  if (!pieces) return { kind: "telemetry", device, points: json.map((j, i) => pointOf(j, timed[i])) };
  readBack.prepared = { json, bytes, points, total };
  return new PieceTelemetry(device, json, timed);
}

/** A pieces frame's telemetry from `at` (its point count); each piece parsed is its point (or its values). */
function readPieces(buf: Buffer, at: number, end: number, device: string, pieces: "ts-values" | undefined): Uplink {
  const count = buf.readUInt32LE(at);
  at += 4;
  if (count === 1) {
    const timed = buf[at] === 1;
    const v = readValues(buf, at + 1, end);
    const point: TelemetryPoint = timed ? (v as unknown as TelemetryPoint) : { values: v };
    if (pieces) {
      const keys = keyCount(point.values);
      readBack.prepared = { json: [valuesJson], bytes: [valuesBytes], points: [keys], total: keys };
    }
    return { kind: "telemetry", device, points: [point] };
  }
  const points: TelemetryPoint[] = new Array<TelemetryPoint>(count);
  const p: Required<Omit<Prepared, "fields">> | undefined = pieces ? { json: new Array<string>(count), bytes: new Array<number>(count), points: new Array<number>(count), total: 0 } : undefined;
  for (let i = 0; i < count; i++) {
    if (at >= end) throw new Error("a frame longer than its record");
    const timed = buf[at] === 1;
    const v = readValues(buf, at + 1, end);
    at = valuesEnd;
    const point: TelemetryPoint = timed ? (v as unknown as TelemetryPoint) : { values: v };
    points[i] = point;
    if (p) {
      const keys = keyCount(point.values);
      p.json[i] = valuesJson;
      p.bytes[i] = valuesBytes;
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
  return JSON.parse(readText(buf, at, end)) as Values;
}

/** The JSON text at `at` (u32 LE bytes, then UTF-8), not parsed; also in valuesJson, valuesBytes, valuesEnd. */
function readText(buf: Buffer, at: number, end: number): string {
  const n = buf.readUInt32LE(at);
  const stop = at + 4 + n;
  if (stop > end) throw new Error("a frame longer than its record");
  valuesJson = buf.toString("utf8", at + 4, stop);
  valuesBytes = n;
  valuesEnd = stop;
  return valuesJson;
}
