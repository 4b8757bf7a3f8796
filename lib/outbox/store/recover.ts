// Recovery: reads every segment once, checking each record's CRC. A torn tail (a write cut by
// a crash or a power loss) is cut off; a corrupt record inside a file is skipped by searching
// for the next record whose CRC holds. Either way a warning says what was lost, and no record
// that fails its CRC is ever used.
import fs from "fs";
import { ackRanges, MAGIC, parseAt, RecordType, resync } from "./record";
import { listSegments, Segment } from "./segment-file";

export interface Recovered {
  segments: Segment[];
  /** Data records still waiting, in log order. */
  waiting: { seq: number[]; at: number[]; bytes: number[] };
  waitingBytes: number;
  /** Sequence numbers that are on disk but need no delivery (flattened inclusive ranges, sorted). */
  skip: number[];
  /** Volatile records of the dead process (requests nobody waits for any more). */
  volatile: number;
  nextSeq: number;
  nextSegment: number;
  warnings: string[];
}

/** Sorted, merged inclusive ranges. */
export function mergeRanges(flat: number[]): number[] {
  const pairs: Array<[number, number]> = [];
  for (let i = 0; i + 1 < flat.length; i += 2) pairs.push([flat[i], flat[i + 1]]);
  pairs.sort((a, b) => a[0] - b[0]);
  const out: number[] = [];
  for (const [from, to] of pairs) {
    if (out.length > 0 && from <= out[out.length - 1] + 1) out[out.length - 1] = Math.max(out[out.length - 1], to);
    else out.push(from, to);
  }
  return out;
}

/** Whether `seq` lies in the merged ranges. */
export function inRanges(ranges: number[], seq: number): boolean {
  let lo = 0;
  let hi = ranges.length / 2 - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (seq < ranges[2 * mid]) hi = mid - 1;
    else if (seq > ranges[2 * mid + 1]) lo = mid + 1;
    else return true;
  }
  return false;
}

interface Found {
  seq: number;
  at: number;
  bytes: number;
  seg: Segment;
  volatile: boolean;
}

function scanFile(dir: string, id: number, acks: number[], found: Found[], warnings: string[]): Segment | undefined {
  const s = new Segment(dir, id, 0);
  const buf = fs.readFileSync(s.path);
  if (buf.length < MAGIC.length || !buf.subarray(0, MAGIC.length).equals(MAGIC)) {
    if (buf.length > 0 && !MAGIC.subarray(0, buf.length).equals(buf.subarray(0, MAGIC.length))) warnings.push(`${s.path} is not a segment of this store (${buf.length} bytes): left alone`);
    else fs.unlinkSync(s.path); // created, never written: a crash right after the roll
    return undefined;
  }
  let off = MAGIC.length;
  let lost = 0;
  while (off < buf.length) {
    const p = parseAt(buf, off, buf.length);
    if (p.ok) {
      const r = p.record;
      if (r.type === RecordType.Ack) acks.push(...ackRanges(buf, r));
      else {
        found.push({ seq: r.seq, at: r.at, bytes: r.end - r.start, seg: s, volatile: r.type === RecordType.Volatile });
        s.count++;
      }
      off = r.end;
      continue;
    }
    const next = p.partial ? -1 : resync(buf, off + 1, buf.length);
    if (next < 0) {
      // Nothing valid follows: a torn tail. Cut it so that it is reported once, not at every start.
      warnings.push(`${s.path}: ${buf.length - off} bytes at the end were cut off by a crash or corrupt (offset ${off}); the records before them are kept${lost ? `, ${lost} corrupt bytes skipped before that` : ""}`);
      fs.truncateSync(s.path, off);
      s.size = s.written = off;
      return s;
    }
    lost += next - off;
    warnings.push(`${s.path}: ${next - off} corrupt bytes at offset ${off} skipped (a record that fails its checksum is never used)`);
    off = next;
  }
  s.size = s.written = buf.length;
  return s;
}

export function recover(dir: string): Recovered {
  const warnings: string[] = [];
  const acks: number[] = [];
  const found: Found[] = [];
  const segments: Segment[] = [];
  const ids = listSegments(dir);
  for (const id of ids) {
    const s = scanFile(dir, id, acks, found, warnings);
    if (s) segments.push(s);
  }
  const acked = mergeRanges(acks);
  const volatileSeqs: number[] = [];
  const waiting = { seq: [] as number[], at: [] as number[], bytes: [] as number[] };
  let waitingBytes = 0;
  let maxSeq = acked.length > 0 ? acked[acked.length - 1] : 0;
  for (const f of found) {
    maxSeq = Math.max(maxSeq, f.seq);
    if (inRanges(acked, f.seq)) {
      f.seg.done++;
    } else if (f.volatile) {
      f.seg.done++;
      volatileSeqs.push(f.seq, f.seq);
    } else {
      waiting.seq.push(f.seq);
      waiting.at.push(f.at);
      waiting.bytes.push(f.bytes);
      waitingBytes += f.bytes;
    }
  }
  return {
    segments,
    waiting,
    waitingBytes,
    skip: mergeRanges(acked.concat(volatileSeqs)),
    volatile: volatileSeqs.length / 2,
    nextSeq: maxSeq + 1,
    nextSegment: (ids.length > 0 ? ids[ids.length - 1] : 0) + 1,
    warnings,
  };
}
