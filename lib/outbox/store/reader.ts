// Reads the log forward from a position, one record at a time, through a buffer: what the store
// sends after a restart, or after it kept only the newest entries in memory, comes from here.
import fs from "fs";
import { BODY_FIXED, HEADER, MAGIC, parseInto, ParseResult, RecordType, resync, type RecordView } from "./record";
import type { Segment } from "./segment-file";

const READ = 512 * 1024;

export interface Position {
  seg: Segment;
  off: number;
}

export class LogReader {
  private fd: number | undefined;
  private fdSeg: Segment | undefined;
  /** Holds `record` after `next` (read only outside). */
  buf = Buffer.allocUnsafe(READ);
  /** The file offset of buf[0], and how many bytes of buf hold data. */
  private bufPos = 0;
  private bufLen = 0;

  /** The record `next` found (its offsets are into `buf`, valid until the next call). */
  readonly record: RecordView = { type: RecordType.Data, seq: 0, at: 0, start: 0, end: 0, payloadStart: 0 };
  /** The file offset of `record.start`. */
  recordOff = 0;

  /**
   * Reads the record at `pos` (or the first valid one after it) into `record` and `buf`, and
   * moves `pos` past it; false at the end of what is written. `after` says which file follows which.
   */
  next(pos: Position, after: (seg: Segment) => Segment | undefined, warn: (m: string) => void): boolean {
    let { seg, off } = pos;
    for (;;) {
      if (seg.deleted) {
        const n = after(seg);
        if (!n) return false;
        seg = n;
        off = MAGIC.length;
        continue;
      }
      if (off >= seg.written) {
        const n = after(seg);
        if (!n || seg.written < seg.size) return false; // the rest is not written yet
        seg = n;
        off = MAGIC.length;
        continue;
      }
      this.load(seg, off, seg.written);
      const p = parseInto(this.buf, off - this.bufPos, this.bufLen, this.record);
      if (p === ParseResult.Ok) {
        this.recordOff = off;
        pos.seg = seg;
        pos.off = this.bufPos + this.record.end;
        return true;
      }
      if (p === ParseResult.Partial && this.bufPos + this.bufLen < seg.written) {
        // A record longer than the buffer: read it whole.
        this.load(seg, off, seg.written, true);
        continue;
      }
      // A corrupt record (recovery warned about it already): go on at the next valid one.
      off = this.resyncFrom(seg, off + 1, warn);
    }
  }

  /** The offset of the next valid record at or after `from` in `seg` (its written end if none). */
  private resyncFrom(seg: Segment, from: number, warn: (m: string) => void): number {
    let off = from;
    while (off < seg.written) {
      this.load(seg, off, seg.written, false, true);
      const at = resync(this.buf, 0, this.bufLen);
      if (at >= 0) return off + at;
      if (off + this.bufLen >= seg.written) break;
      off += Math.max(1, this.bufLen - HEADER - BODY_FIXED);
    }
    warn(`${seg.path}: no valid record after offset ${from - 1}; the rest of this segment is skipped`);
    return seg.written;
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
    this.fdSeg = undefined;
    this.bufLen = 0;
  }

  /** Releases `seg` if it is the open one (before its file is deleted). */
  release(seg: Segment): void {
    if (this.fdSeg === seg) this.close();
  }

  /** Makes buf hold the bytes from `off` on (at least a header and, when known, the whole record). */
  private load(seg: Segment, off: number, limit: number, grow = false, fresh = false): void {
    if (this.fdSeg !== seg) {
      this.close();
      this.fd = fs.openSync(seg.path, "r");
      this.fdSeg = seg;
    }
    const inBuf = off >= this.bufPos && off < this.bufPos + this.bufLen;
    if (inBuf && !grow && !fresh) {
      const rel = off - this.bufPos;
      if (this.bufLen - rel >= 8) {
        const len = this.buf.readUInt32LE(rel);
        if (rel + 8 + len <= this.bufLen || this.bufPos + this.bufLen >= limit) return;
      }
    }
    let want = READ;
    if (grow) {
      const head = Buffer.alloc(8);
      fs.readSync(this.fd!, head, 0, 8, off);
      want = Math.max(READ, 8 + head.readUInt32LE(0));
    }
    if (this.buf.length < want) this.buf = Buffer.allocUnsafe(want);
    const len = Math.min(this.buf.length, limit - off);
    let got = 0;
    while (got < len) {
      const n = fs.readSync(this.fd!, this.buf, got, len - got, off + got);
      if (n === 0) break;
      got += n;
    }
    this.bufPos = off;
    this.bufLen = got;
  }
}
