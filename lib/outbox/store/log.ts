// The store's files: its folder and lock, the segment files read back at open (recover.ts),
// appends and acks through the group commit (commit.ts), and the deletion of a segment file
// once nothing in it, or before it, waits any more. Knows records, not msgs.
import fs from "fs";
import { GroupCommit } from "./commit";
import { describeFsError } from "./errors";
import { DirLock } from "./lock";
import type { Position } from "./reader";
import { MAGIC, type Payload, type RecordType } from "./record";
import { recover, type Recovered } from "./recover";
import { DEVICES_FILE } from "./devices-file";
import { listSegments, segmentPath, type Segment } from "./segment-file";

export interface LogHooks<T> {
  durable(items: T[]): void;
  failed(err: Error, items: T[]): void;
  warn(message: string): void;
  /** A segment file is gone: the reader lets go of it. */
  deleted(seg: Segment): void;
}

export class SegmentLog<T> {
  /** Segment files, oldest first. */
  segs: Segment[] = [];
  /** The oldest segment is finished but could not be deleted yet (see collect). */
  private stalled = false;
  private constructor(readonly dir: string, private readonly lock: DirLock, private readonly commit: GroupCommit<T>, private readonly hooks: LogHooks<T>) {}

  /**
   * Creates the folder, takes its lock, reads back what waits in it. Throws an Error a user can
   * act on when the folder cannot be used (the lock is not kept then).
   */
  static open<T>(dir: string, opts: { delayMs: number; segmentBytes: number }, hooks: LogHooks<T>): { log: SegmentLog<T>; recovered: Recovered } {
    try {
      fs.mkdirSync(dir, { recursive: true });
    } catch (err) {
      throw new Error(describeFsError(err, `the store folder ${dir} cannot be created`));
    }
    const lock = DirLock.acquire(dir);
    try {
      const r = recover(dir);
      for (const w of r.warnings) hooks.warn(w);
      let log: SegmentLog<T> | undefined;
      const pending: Segment[] = [];
      const commit = new GroupCommit<T>(dir, r.nextSegment, opts, {
        created: (seg) => (log ? log.segs.push(seg) : pending.push(seg)),
        durable: (items) => hooks.durable(items),
        failed: (err, items) => hooks.failed(err, items),
      });
      log = new SegmentLog<T>(dir, lock, commit, hooks);
      log.segs = r.segments.concat(pending);
      log.collect();
      return { log, recovered: r };
    } catch (err) {
      lock.release();
      throw err;
    }
  }

  /** Where the oldest record is (recovery reads the waiting ones from here). */
  get start(): Position | undefined {
    return this.segs.length > 0 ? { seg: this.segs[0], off: MAGIC.length } : undefined;
  }

  /** Writing failed once: every later append fails too. */
  get failure(): Error | undefined {
    return this.commit.failure;
  }

  get counts(): { commits: number; records: number } {
    return { ...this.commit.counts };
  }

  get diskBytes(): number {
    return this.segs.reduce((n, s) => n + s.size, 0);
  }

  /** Appends a data record, returns its bytes; where it went is `lastSeg` / `lastOff`. */
  append(type: RecordType, seq: number, at: number, payload: Payload, item: T): number {
    return this.commit.append(type, seq, at, payload, item);
  }

  get lastSeg(): Segment {
    return this.commit.lastSeg;
  }

  get lastOff(): number {
    return this.commit.lastOff;
  }

  /** The record `seq` of `seg` needs no delivery any more (without its segment: deleted at a later open). */
  ack(seg: Segment | undefined, seq: number): void {
    if (seg) seg.done++;
    this.commit.ack(seq);
    // Only a segment that just finished, or one that waited for its writes or to be rolled, can go now.
    if (!seg || seg.done >= seg.count || this.stalled) this.collect();
  }

  /** Writes what is pending, closes the files, releases the lock; `removed` deletes the folder. */
  async close(removed: boolean): Promise<void> {
    try {
      await this.commit.close();
    } finally {
      this.lock.release();
      if (removed) removeStoreFiles(this.dir);
    }
  }

  /** Deletes segment files from the oldest on while nothing in them waits. */
  private collect(): void {
    const active = this.commit.active;
    this.stalled = false;
    while (this.segs.length > 0) {
      const s = this.segs[0];
      if (!s.finished) return;
      if (s === active || s.written < s.size) {
        this.stalled = true; // finished, but still written to, or its writes not done: looked at again at the next ack
        return;
      }
      this.segs.shift();
      s.deleted = true;
      this.hooks.deleted(s);
      fs.unlink(s.path, (err) => {
        if (err && err.code !== "ENOENT") this.hooks.warn(describeFsError(err, `could not delete ${s.path}`));
      });
    }
  }
}

/**
 * Deletes what a store keeps in `dir` (segments, lock, registry, temporary files), then the
 * folder if nothing else is in it: a folder the user chose may hold other things, which stay.
 */
export function removeStoreFiles(dir: string): void {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return; // gone already
  }
  const ours = new Set([DEVICES_FILE, "lock"]);
  for (const id of listSegments(dir)) fs.rmSync(segmentPath(dir, id), { force: true });
  for (const n of names) if (ours.has(n) || (n.startsWith(DEVICES_FILE + ".") && n.endsWith(".tmp"))) fs.rmSync(`${dir}/${n}`, { force: true });
  try {
    fs.rmdirSync(dir);
  } catch {
    /* not empty: the user's own files stay */
  }
}
