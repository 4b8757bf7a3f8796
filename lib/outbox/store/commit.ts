// Group commit: records are appended to a buffer in memory and written with one write per
// chunk and one fdatasync per segment for all of them, `delayMs` after the first one arrived
// (or at once when a commit is due anyway: a flush, a full megabyte), so that hundreds of
// records share one fsync. One commit runs at a time; what arrives meanwhile goes into the next,
// which starts `delayMs` after its own first record (not as soon as the previous one is done:
// under a steady load that made one fsync per ~0.6 ms, 1,500 a second of 50 records each). A
// chunk's buffer is written from where the last commit stopped and appended to again after it
// (a new 256 KiB buffer for each commit's few KiB cost page faults and external memory). When a
// commit is on disk, the items appended with its records are handed to `durable`.
import fs from "fs";
import { ackRecord, MAGIC, maxRecordBytes, writeData, type Payload, type RecordType } from "./record";
import { Segment } from "./segment-file";

const CHUNK = 256 * 1024;
/** Pending bytes beyond which a commit starts without waiting for the delay. */
const EAGER = 1024 * 1024;

export interface CommitOptions {
  /** The bounded wait: how long the first record of a commit waits for others, ms. */
  delayMs: number;
  /** Size at which the active segment is closed and a new one begun. */
  segmentBytes: number;
}

export interface CommitHooks<T> {
  /** A new segment file exists (the commit writes its magic). */
  created(seg: Segment): void;
  durable(items: T[]): void;
  /** Writing failed: these items are not stored; every later commit fails too. */
  failed(err: Error, items: T[]): void;
}

interface Chunk {
  seg: Segment;
  /** Offset in the segment file of buf[0]. */
  pos: number;
  buf: Buffer;
  used: number;
  /** Bytes before this are written, or being written by the commit that runs. */
  start: number;
}


function write(fd: number, buf: Buffer, off: number, len: number, pos: number): Promise<number> {
  return new Promise((resolve, reject) => fs.write(fd, buf, off, len, pos, (err, n) => (err ? reject(err) : resolve(n))));
}

async function writeAll(fd: number, buf: Buffer, off: number, len: number, pos: number): Promise<void> {
  let done = 0;
  while (done < len) done += await write(fd, buf, off + done, len - done, pos + done);
}

function datasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())));
}

/** Makes a new file's name durable. Not every platform can fsync a folder; those cannot lose it either. */
export function fsyncDir(dir: string): Promise<void> {
  return new Promise((resolve) =>
    fs.open(dir, "r", (err, fd) => {
      if (err) return resolve();
      fs.fsync(fd, () => fs.close(fd, () => resolve()));
    }),
  );
}

export class GroupCommit<T> {
  active: Segment;
  failure: Error | undefined = undefined;
  /** Commits done and records written, for the benchmark and the tests. */
  readonly counts = { commits: 0, records: 0 };
  /** Where the last `append` put its record: its segment (`active` then) and offset (no object per record). */
  lastSeg: Segment;
  lastOff = 0;
  private chunks: Chunk[] = [];
  private current: Chunk | undefined = undefined;
  private items: T[] = [];
  /** Acknowledged sequence numbers as inclusive [from, to] pairs, the last one open in ackFrom / ackTo. */
  private acks: number[] = [];
  private ackFrom = -1;
  private ackTo = -1;
  private acksSorted = true;
  private pendingBytes = 0;
  private records = 0;
  /** A group has begun (records or acks since the last commit's cut), at `firstAt`. */
  private grouping = false;
  private firstAt = 0;
  private timer: NodeJS.Timeout | undefined = undefined;
  private running = false;
  private dirDirty = true;
  private waiters: Array<() => void> = [];
  /** Segments that stopped being active but still have writes in flight. */
  private retiring: Segment[] = [];

  constructor(private readonly dir: string, private nextId: number, private readonly opts: CommitOptions, private readonly hooks: CommitHooks<T>) {
    this.active = this.newSegment();
    this.lastSeg = this.active;
  }

  get idle(): boolean {
    return !this.running && !this.unwritten() && this.ackTo < 0;
  }

  /**
   * Appends a data record; `item` is handed to `durable` once it is on disk. Returns its bytes;
   * where it went is `lastSeg` / `lastOff`.
   */
  append(type: RecordType, seq: number, at: number, payload: Payload, item: T): number {
    const c = this.room(maxRecordBytes(payload));
    const seg = this.active;
    this.lastSeg = seg;
    this.lastOff = c.pos + c.used;
    const end = writeData(c.buf, c.used, type, seq, at, payload);
    const bytes = end - c.used;
    c.used = end;
    seg.size += bytes;
    seg.count++;
    this.pendingBytes += bytes;
    this.records++;
    if (!this.grouping) this.begin();
    this.items.push(item);
    if (!this.timer || this.pendingBytes >= EAGER) this.schedule();
    return bytes;
  }

  /**
   * Records that `seq` needs no delivery any more (written with the next commit). A batch's
   * acknowledgements come in order: each one that follows the last is a counter's step.
   */
  ack(seq: number): void {
    if (this.failure) return;
    if (seq === this.ackTo + 1 && this.ackTo >= 0) {
      this.ackTo = seq;
      return;
    }
    const first = this.ackTo < 0;
    if (!first) {
      if (seq <= this.ackTo) this.acksSorted = false;
      this.acks.push(this.ackFrom, this.ackTo);
    }
    this.ackFrom = seq;
    this.ackTo = seq;
    if (!this.grouping) this.begin();
    if (first) this.schedule(); // the first of this commit's (the others find it scheduled)
  }

  private begin(): void {
    this.grouping = true;
    this.firstAt = Date.now();
  }

  /** Appended bytes not yet handed to a write. */
  private unwritten(): boolean {
    return this.chunks.length > 0 || (this.current !== undefined && this.current.used > this.current.start);
  }

  /** Resolves once everything appended so far is on disk (or writing failed). */
  flush(): Promise<void> {
    if (this.idle || this.failure) return Promise.resolve();
    const p = new Promise<void>((resolve) => this.waiters.push(resolve));
    if (!this.running) void this.commit();
    return p;
  }

  /** Writes what is pending, then closes the files. */
  async close(): Promise<void> {
    await this.flush();
    this.clearTimer();
    for (const s of [...this.retiring, this.active]) this.closeFd(s);
    this.retiring = [];
  }

  private newSegment(): Segment {
    const seg = Segment.create(this.dir, this.nextId++);
    this.dirDirty = true;
    const buf = Buffer.allocUnsafe(CHUNK);
    MAGIC.copy(buf, 0);
    if (this.current) this.chunks.push(this.current);
    this.current = { seg, pos: 0, buf, used: MAGIC.length, start: 0 };
    this.pendingBytes += MAGIC.length;
    this.hooks.created(seg);
    return seg;
  }

  /** The chunk to write `max` bytes into, in the active segment (rolled when it is full). */
  private room(max: number): Chunk {
    if (this.active.size > MAGIC.length && this.active.size + max > this.opts.segmentBytes) {
      this.retiring.push(this.active);
      this.active = this.newSegment();
    }
    const c = this.current;
    if (c && c.seg === this.active && c.used + max <= c.buf.length) return c;
    if (c) this.chunks.push(c);
    const next: Chunk = { seg: this.active, pos: this.active.size, buf: Buffer.allocUnsafe(Math.max(CHUNK, max)), used: 0, start: 0 };
    this.current = next;
    return next;
  }

  private schedule(): void {
    if (this.running || this.failure) return;
    if (this.pendingBytes >= EAGER) {
      void this.commit();
      return;
    }
    if (!this.timer) this.timer = setTimeout(() => void this.commit(), this.opts.delayMs);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private appendAcks(): void {
    if (this.ackTo < 0) return;
    const pairs = this.acks;
    pairs.push(this.ackFrom, this.ackTo);
    this.acks = [];
    this.ackFrom = this.ackTo = -1;
    // Acknowledgements come mostly in order (one device's, one batch's): sorted only when they did not.
    let order = Array.from({ length: pairs.length / 2 }, (_, i) => i);
    if (!this.acksSorted) order = order.sort((a, b) => pairs[2 * a] - pairs[2 * b]);
    this.acksSorted = true;
    const ranges: number[] = [];
    for (const i of order) {
      const from = pairs[2 * i];
      const to = pairs[2 * i + 1];
      const n = ranges.length;
      if (n > 0 && from <= ranges[n - 1] + 1) ranges[n - 1] = Math.max(to, ranges[n - 1]);
      else ranges.push(from, to);
    }
    const rec = ackRecord(ranges, Date.now());
    const c = this.room(rec.length);
    rec.copy(c.buf, c.used);
    c.used += rec.length;
    this.active.size += rec.length;
    this.pendingBytes += rec.length;
  }

  private async commit(): Promise<void> {
    this.clearTimer();
    if (this.running || this.failure) return;
    this.appendAcks();
    // Full chunks whole (from where they were left), then the current one up to here: it takes
    // the next records after these bytes, never within them while they are written.
    const parts: Array<{ c: Chunk; from: number; to: number }> = [];
    const cur = this.current;
    for (const c of cur && cur.used > cur.start ? this.chunks.concat(cur) : this.chunks) {
      if (c.used > c.start) parts.push({ c, from: c.start, to: c.used });
      c.start = c.used;
    }
    const items = this.items;
    const records = this.records;
    this.chunks = [];
    this.items = [];
    this.pendingBytes = 0;
    this.records = 0;
    this.grouping = false;
    if (parts.length === 0) return this.settleWaiters();
    this.running = true;
    try {
      const touched = new Set<Segment>();
      for (const p of parts) {
        await writeAll(p.c.seg.fd!, p.c.buf, p.from, p.to - p.from, p.c.pos + p.from);
        touched.add(p.c.seg);
      }
      for (const s of touched) await datasync(s.fd!);
      if (this.dirDirty) {
        this.dirDirty = false;
        await fsyncDir(this.dir);
      }
      for (const p of parts) p.c.seg.written = Math.max(p.c.seg.written, p.c.pos + p.to);
      this.retiring = this.retiring.filter((s) => {
        if (s.written < s.size) return true;
        this.closeFd(s);
        return false;
      });
    } catch (err) {
      this.running = false;
      this.failure = err as Error;
      this.hooks.failed(this.failure, items.concat(this.items));
      this.items = [];
      this.chunks = [];
      this.current = undefined;
      return this.settleWaiters();
    }
    this.running = false;
    this.counts.commits++;
    this.counts.records += records;
    this.hooks.durable(items);
    if (!this.unwritten() && this.ackTo < 0) return this.settleWaiters();
    // The next group waits its own delay from its first record (a flush or a full megabyte: none).
    const wait = this.firstAt + this.opts.delayMs - Date.now();
    if (wait <= 0 || this.pendingBytes >= EAGER || this.waiters.length > 0) void this.commit();
    else this.timer = setTimeout(() => void this.commit(), wait);
  }

  private settleWaiters(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private closeFd(s: Segment): void {
    if (s.fd === undefined) return;
    try {
      fs.closeSync(s.fd);
    } catch {
      /* already closed */
    }
    s.fd = undefined;
  }
}
