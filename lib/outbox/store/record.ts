// The record format of the segment log. Each record is
//   u32 LE body length | u32 LE CRC-32 of the body | body
// and the body is
//   u8 type | f64 LE sequence number | f64 LE accept time (ms) | payload
// where the payload of a data record is its Uplink (uplink-frame.ts: a frame, or its JSON) and that of an ack record the
// acknowledged sequence numbers as f64 [from, to] pairs (inclusive). The CRC covers the whole
// body, so a torn or corrupt record is never taken for data; seq and time sit outside the JSON
// so that recovery reads them without parsing it.
import { crc32 } from "./crc32";

/** A record's payload being written: at most `max` bytes, put at `off` by `write`, which returns the end. */
export interface Payload {
  readonly max: number;
  write(buf: Buffer, off: number): number;
}

export const HEADER = 8;
export const BODY_FIXED = 17;
/** A length beyond this is corruption, not a record (no uplink comes near it). */
export const MAX_BODY = 256 * 1024 * 1024;
/** Every segment file starts with this (the format's version is its last digit). */
export const MAGIC = Buffer.from("IGWLOG1\n", "latin1");

export const enum RecordType {
  /** An uplink. */
  Data = 1,
  /** Sequence numbers that need no delivery any more (acknowledged, refused or dropped). */
  Ack = 2,
  /** An uplink that only means something to the process that accepted it (a request with an id). */
  Volatile = 3,
}

/** Most bytes a data record with this payload can take. */
export function maxRecordBytes(payload: Payload): number {
  return HEADER + BODY_FIXED + payload.max;
}

/** Writes a data record at `off` (room checked by the caller); returns its end. */
export function writeData(buf: Buffer, off: number, type: RecordType, seq: number, at: number, payload: Payload): number {
  const body = off + HEADER;
  buf[body] = type;
  putF64(buf, body + 1, seq);
  putF64(buf, body + 9, at);
  const end = payload.write(buf, body + BODY_FIXED);
  putU32(buf, off, end - body);
  putU32(buf, off + 4, crc32(buf, body, end));
  return end;
}

// Buffer's writeDoubleLE / writeUInt32LE check their arguments on every call; the room for a record
// is known, and these run four times per record (the same bytes: little-endian, IEEE 754).
const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);
const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function putF64(buf: Buffer, at: number, v: number): void {
  if (!littleEndian) {
    buf.writeDoubleLE(v, at);
    return;
  }
  f64[0] = v;
  for (let i = 0; i < 8; i++) buf[at + i] = f64Bytes[i];
}

/** buf.writeUInt32LE without its checks (the room is known); also the frames' (uplink-frame.ts). */
export function putU32(buf: Buffer, at: number, v: number): void {
  buf[at] = v & 0xff;
  buf[at + 1] = (v >>> 8) & 0xff;
  buf[at + 2] = (v >>> 16) & 0xff;
  buf[at + 3] = v >>> 24;
}

/** An ack record for these inclusive ranges. */
export function ackRecord(ranges: number[], at: number): Buffer {
  const buf = Buffer.allocUnsafe(HEADER + BODY_FIXED + ranges.length * 8);
  const body = HEADER;
  buf[body] = RecordType.Ack;
  buf.writeDoubleLE(0, body + 1);
  buf.writeDoubleLE(at, body + 9);
  for (let i = 0; i < ranges.length; i++) buf.writeDoubleLE(ranges[i], body + BODY_FIXED + i * 8);
  buf.writeUInt32LE(buf.length - HEADER, 0);
  buf.writeUInt32LE(crc32(buf, body, buf.length), 4);
  return buf;
}

export interface RecordView {
  type: RecordType;
  seq: number;
  at: number;
  /** The record's first byte and the byte after it. */
  start: number;
  end: number;
  /** The payload's bytes: [payloadStart, end). */
  payloadStart: number;
}

export type Parsed = { ok: true; record: RecordView } | { ok: false; partial: boolean };

export const enum ParseResult {
  Ok = 0,
  /** It may continue beyond `end` (read more, or, at the end of a file, a torn write). */
  Partial = 1,
  /** Not a valid record. */
  Corrupt = 2,
}

/** `parseAt` into a view the caller keeps (no allocation per record: the read-back path). */
export function parseInto(buf: Buffer, off: number, end: number, view: RecordView): ParseResult {
  if (end - off < HEADER) return ParseResult.Partial;
  const len = buf.readUInt32LE(off);
  if (len < BODY_FIXED || len > MAX_BODY) return ParseResult.Corrupt;
  const bodyEnd = off + HEADER + len;
  if (bodyEnd > end) return ParseResult.Partial;
  if (crc32(buf, off + HEADER, bodyEnd) !== buf.readUInt32LE(off + 4)) return ParseResult.Corrupt;
  const type = buf[off + HEADER] as RecordType;
  if (type !== RecordType.Data && type !== RecordType.Ack && type !== RecordType.Volatile) return ParseResult.Corrupt;
  view.type = type;
  view.seq = buf.readDoubleLE(off + HEADER + 1);
  view.at = buf.readDoubleLE(off + HEADER + 9);
  view.start = off;
  view.end = bodyEnd;
  view.payloadStart = off + HEADER + BODY_FIXED;
  return ParseResult.Ok;
}

/**
 * The record at `off` in buf[..end): `partial` when it may continue beyond `end` (read more,
 * or, at the end of a file, a torn write), otherwise not a valid record (corrupt).
 */
export function parseAt(buf: Buffer, off: number, end: number): Parsed {
  const record: RecordView = { type: RecordType.Data, seq: 0, at: 0, start: 0, end: 0, payloadStart: 0 };
  const r = parseInto(buf, off, end, record);
  return r === ParseResult.Ok ? { ok: true, record } : { ok: false, partial: r === ParseResult.Partial };
}

/** The next offset after `from` where a valid record starts, or -1 (resynchronising after corruption). */
export function resync(buf: Buffer, from: number, end: number): number {
  for (let off = from; off + HEADER + BODY_FIXED <= end; off++) {
    const p = parseAt(buf, off, end);
    if (p.ok) return off;
  }
  return -1;
}

export function ackRanges(buf: Buffer, r: RecordView): number[] {
  const out: number[] = [];
  for (let off = r.payloadStart; off + 16 <= r.end; off += 16) out.push(buf.readDoubleLE(off), buf.readDoubleLE(off + 8));
  return out;
}
