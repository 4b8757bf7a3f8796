// The payload of a data record: the uplink, written so that reading it back is cheap. JSON.parse
// of a whole telemetry uplink costs ~1.4 µs, of its values alone ~0.3 µs (the frame around them,
// the strings "telemetry" and the device, the points array and objects, is most of the work),
// and JSON.stringify of a whole uplink walks again what the dialect serialised at accept. So
// telemetry and attributes, the bulk of the traffic, are framed:
//   u8 FRAME | u8 kind (1 telemetry, 2 attributes) | u16 LE device bytes | device (UTF-8)
//   telemetry:  u32 LE points, then per point: f64 LE ts (NaN: none) | u32 LE values bytes | values JSON
//   attributes: u32 LE values bytes | values JSON
// with the values' JSON one JSON.stringify of the values. With the dialect's telemetry form
// ("ts-values", types.ts), telemetry is the pieces the dialect serialised at accept, as they are
// (nothing of the uplink is walked again, nothing is cut out of them), with the data points the
// dialect counted in each (so that what is read back can be sent without parsing it):
//   counted:    u8 FRAME | u8 4 | u16 LE device bytes | device | u32 LE points, then per point:
//               u8 1 (the piece is `{"ts":…,"values":…}`) or 0 (the values alone) | u32 LE data points |
//               u32 LE piece bytes | piece
// (kind 3, written by the previous version, is the same without the data points; still read.)
// Every other uplink (and values with a toJSON of their own) is its JSON, which never starts
// with FRAME. What comes back (uplink-read.ts) equals JSON.parse(JSON.stringify(uplink)) for the fields of its kind.
import type { Prepared } from "../../dialect/types";
import type { TelemetryPoint, Uplink } from "../../records";
import { putU32, type Payload } from "./record";

/** The first byte of a frame (a JSON payload starts with `{`), and the frames' kinds; read back by uplink-read.ts. */
export const FRAME = 0x01;
export const TELEMETRY = 1;
export const ATTRIBUTES = 2;
export const PIECES = 3;
export const COUNTED = 4;
const MAX_DEVICE = 0xffff;

/**
 * ThingsBoard's prepared form of a one-point uplink (thingsboard-encode.ts OnePoint) keeps its
 * piece as `text`, and makes `json` (`[text]`) anew each time it is read: read `text` when it is there.
 */
type OnePiece = Prepared & { readonly text?: unknown };

const EMPTY: string[] = [];
const EMPTY_COUNTS: number[] = [];
const EMPTY_POINTS: TelemetryPoint[] = [];

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
  /** Pieces frame: the one piece, or the dialect's pieces (its own array, not copied). */
  private one: string | undefined = undefined;
  private list: string[] = EMPTY;
  /** Pieces frame: the data points of `one`, or of each of `list`. */
  private oneCount = 0;
  private counts: number[] = EMPTY_COUNTS;
  private json = "";
  max = 0;

  /**
   * Throws what JSON.stringify throws (a value that cannot be stored). `pieces`: `p` is the
   * dialect's telemetry form ("ts-values"), written as it is when it has one piece per point.
   */
  set(u: Uplink, p: Prepared | undefined, pieces = false): void {
    this.kind = 0;
    if (pieces && p !== undefined && u.kind === "telemetry" && typeof u.device === "string" && u.device.length * 3 <= MAX_DEVICE) {
      const max = this.pieces(u.points, p);
      if (max >= 0) {
        this.kind = COUNTED;
        this.device = u.device;
        this.points = u.points;
        this.max = 8 + u.device.length * 3 + max;
        return;
      }
    }
    if (this.values.length > 0) this.values = [];
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
    buf[off + 2] = n & 0xff;
    buf[off + 3] = n >>> 8;
    let at = off + 4 + n;
    if (this.kind === COUNTED) {
      const one = this.one;
      if (one !== undefined) {
        putU32(buf, at, 1);
        buf[at + 4] = this.points[0].ts === undefined ? 0 : 1;
        putU32(buf, at + 5, this.oneCount);
        at = writeValues(buf, at + 9, one);
        this.one = undefined;
      } else {
        const list = this.list;
        const counts = this.counts;
        putU32(buf, at, list.length);
        at += 4;
        for (let i = 0; i < list.length; i++) {
          buf[at] = this.points[i].ts === undefined ? 0 : 1;
          putU32(buf, at + 1, counts[i]);
          at = writeValues(buf, at + 5, list[i]);
        }
        this.list = EMPTY;
        this.counts = EMPTY_COUNTS;
      }
    } else if (this.kind === TELEMETRY) {
      buf.writeUInt32LE(this.points.length, at);
      at += 4;
      for (let i = 0; i < this.points.length; i++) {
        const ts = this.points[i].ts;
        buf.writeDoubleLE(ts === undefined ? NaN : ts, at);
        at = writeValues(buf, at + 8, this.values[i]);
      }
    } else at = writeValues(buf, at, this.values[0]);
    this.device = "";
    this.points = EMPTY_POINTS;
    return at;
  }

  /**
   * The dialect's pieces, one per point, into `one` or `list`; the most bytes they take in the
   * frame, or -1 when they are not that (another dialect's form, a point split or merged),
   * checked by their first and last bytes only.
   */
  private pieces(points: TelemetryPoint[], p: Prepared): number {
    const text = (p as OnePiece).text;
    if (typeof text === "string") {
      const total = p.total;
      if (points.length !== 1 || !isPiece(text, points[0].ts) || !isCount(total)) return -1;
      this.one = text;
      this.oneCount = total;
      return 13 + text.length * 3;
    }
    const json = p.json;
    const counts = p.points;
    if (json.length !== points.length || counts === undefined || counts.length !== json.length) return -1;
    let max = 4;
    for (let i = 0; i < json.length; i++) {
      const piece = json[i];
      if (typeof piece !== "string" || !isPiece(piece, points[i].ts) || !isCount(counts[i])) return -1;
      max += 9 + piece.length * 3;
    }
    this.list = json;
    this.counts = counts;
    return max;
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

/** A data point count that fits the frame's u32. */
function isCount(n: unknown): n is number {
  return typeof n === "number" && n >= 0 && n <= 0xffffffff && Math.floor(n) === n;
}

/** A piece as "ts-values" makes it for a point with (`{"ts":…`) or without a ts (an object's JSON). */
function isPiece(piece: string, ts: number | undefined): boolean {
  // Character by character: a startsWith measured ~40 ns here, as much as the rest of the check.
  if (piece.charCodeAt(0) !== 0x7b || piece.charCodeAt(piece.length - 1) !== 0x7d) return false;
  return ts === undefined || (piece.charCodeAt(1) === 0x22 && piece.charCodeAt(2) === 0x74 && piece.charCodeAt(3) === 0x73 && piece.charCodeAt(4) === 0x22 && piece.charCodeAt(5) === 0x3a);
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
  putU32(buf, at, n);
  return at + 4 + n;
}

/**
 * UTF-8 of `s` at `off`, its byte count. A short ASCII string (a device name) is copied here: a
 * Buffer.write costs ~0.1 µs of call into C++ whatever its length, but copying in JavaScript
 * costs ~5 ns a character (measured: a loop wins up to ~16 characters; a point's piece of ~60
 * took 0.3-0.6 µs so, against 0.1 µs by Buffer.write).
 */
function writeString(buf: Buffer, off: number, s: string): number {
  const len = s.length;
  if (len <= 16) {
    let i = 0;
    for (; i < len; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      buf[off + i] = c;
    }
    if (i === len) return len;
  }
  return utf8Write ? utf8Write.call(buf, s, off) : buf.write(s, off);
}

/**
 * Buffer's own UTF-8 writer, which Buffer.write calls after sorting out its optional arguments
 * (that costs about as much as the copy of a 60-byte piece); Buffer.write where it is missing.
 */
const utf8Write = (() => {
  const f = (Buffer.prototype as unknown as { utf8Write?: unknown }).utf8Write;
  return typeof f === "function" ? (f as (this: Buffer, s: string, off: number) => number) : undefined;
})();

/** JSON.stringify of an object without a toJSON of its own (the common case), else undefined. */
function objectJson(v: unknown): string | undefined {
  if (typeof v !== "object" || v === null || typeof (v as { toJSON?: unknown }).toJSON === "function") return undefined;
  return JSON.stringify(v);
}
