// The disk store's waiting line, in memory:   head ++ region ++ tail.   `head` is what leaves
// next (requeued entries, entries read back from disk), `region` a run of the log that waits
// on disk only (read back on demand, in order), `tail` the newest entries. With done-when
// "stored", entries whose msgs are done move from the tail into the region once more than
// `memoryEntries` wait, so that a long outage fills the disk, not the heap.
import type { Uplink } from "../../records";
import type { Entry } from "../types";
import { describeFsError } from "./errors";
import { LogReader, type Position } from "./reader";
import { RecordType } from "./record";
import type { Segment } from "./segment-file";
import { StoredEntry, type EntryOwner } from "./stored-entry";
import { readBack, readUplink } from "./uplink-read";

export interface QueueContext {
  owner: EntryOwner;
  /** The store's segments, oldest first (the reader steps from one to the next). */
  segments(): Segment[];
  /** Callbacks of a predecessor's entries (a redeploy), joined again to their record when it is read. */
  live: Map<number, Entry>;
  warn(message: string): void;
  /** The dialect's telemetry form (types.ts): read-back telemetry gets its Prepared rebuilt from the frame. */
  pieces?: "ts-values";
}

export class WaitQueue {
  private head: Entry[] = [];
  private hi = 0;
  private tail: StoredEntry[] = [];
  private ti = 0;
  private region: { count: number; pos: Position | undefined } = { count: 0, pos: undefined };
  /** Sequence numbers inside the region's span that are not part of it (flattened ranges). */
  private skip: number[] = [];
  private skipIdx = 0;
  readonly reader = new LogReader();

  constructor(private readonly ctx: QueueContext, private readonly memoryEntries: number) {}

  get size(): number {
    return this.head.length - this.hi + this.region.count + (this.tail.length - this.ti);
  }

  /** After recovery: `count` records from `pos` on wait on disk; `skip` are acked or volatile. */
  startRegion(count: number, pos: Position | undefined, skip: number[]): void {
    this.region = { count, pos: count > 0 ? pos : undefined };
    this.skip = skip;
    this.skipIdx = 0;
  }

  pushTail(se: StoredEntry): void {
    this.tail.push(se);
  }

  /** A record appended to the log that leaves from the head: the region must not read it again. */
  skipInRegion(seq: number): void {
    this.skip.push(seq, seq);
  }

  /** Puts entries before everything else, in their order. */
  unshift(front: Entry[]): void {
    this.head = front.concat(this.head.slice(this.hi));
    this.hi = 0;
  }

  /** Puts entries after what is in the head now (entries adopted before the log was open). */
  appendHead(entries: Entry[]): void {
    if (entries.length === 0) return;
    this.head = this.head.slice(this.hi).concat(entries);
    this.hi = 0;
  }

  take(max: number): Entry[] {
    const out: Entry[] = [];
    while (out.length < max) {
      if (this.hi < this.head.length) {
        const end = Math.min(this.head.length, this.hi + (max - out.length));
        for (let i = this.hi; i < end; i++) out.push(this.head[i]);
        this.hi = end;
        continue;
      }
      if (!this.refill(max - out.length)) break;
    }
    this.compactHead();
    return out;
  }

  /** Empties the memory part; the region stays on disk, to be read back at the next open. */
  clear(): { head: Entry[]; tail: Entry[] } {
    const out = { head: this.head.slice(this.hi), tail: this.tail.slice(this.ti) as Entry[] };
    this.head = [];
    this.hi = 0;
    this.tail = [];
    this.ti = 0;
    this.region = { count: 0, pos: undefined };
    return out;
  }

  /** Takes `lost` out of the memory part (their records could not be written). */
  remove(lost: Set<Entry>): void {
    this.head = this.head.slice(this.hi).filter((e) => !lost.has(e));
    this.hi = 0;
    this.tail = this.tail.slice(this.ti).filter((e) => !lost.has(e));
    this.ti = 0;
  }

  /** Done-with entries beyond the memory budget wait on disk only (done-when "stored"). */
  evict(): void {
    let over = this.head.length - this.hi + (this.tail.length - this.ti) - this.memoryEntries;
    while (over > 0 && this.ti < this.tail.length) {
      const se = this.tail[this.ti];
      if (!se.durable || se.user) break;
      if (this.region.count === 0) this.region.pos = { seg: se.seg, off: se.off };
      this.region.count++;
      this.ti++;
      over--;
    }
    if (this.ti > 4096 && this.ti * 2 > this.tail.length) {
      this.tail = this.tail.slice(this.ti);
      this.ti = 0;
    }
  }

  /** The oldest waiting entry of the log (loaded into the head when it was on disk). */
  peekOldest(): StoredEntry | undefined {
    for (let i = this.hi; i < this.head.length; i++) {
      const e = this.head[i];
      if (e instanceof StoredEntry) return e;
    }
    if (this.region.count > 0) {
      const n = this.head.length;
      this.loadRegion(1);
      if (this.head.length > n) return this.head[n] as StoredEntry;
    }
    return this.ti < this.tail.length ? this.tail[this.ti] : undefined;
  }

  /** Takes the oldest waiting entry that counts (announcements stay), for the cap. */
  shiftOldest(): Entry | undefined {
    const skipped: Entry[] = [];
    let e = this.take(1)[0];
    while (e && e.free) {
      skipped.push(e);
      e = this.take(1)[0];
    }
    if (skipped.length > 0) this.unshift(skipped);
    return e;
  }

  /** Moves the next entries into the head (from the region, else the tail); false when none. */
  private refill(want: number): boolean {
    this.head = [];
    this.hi = 0;
    if (this.region.count > 0) {
      this.loadRegion(Math.max(want, 1000));
      if (this.head.length > 0) return true;
    }
    if (this.ti < this.tail.length) {
      this.head = this.ti === 0 ? this.tail : this.tail.slice(this.ti);
      this.tail = [];
      this.ti = 0;
      return true;
    }
    return false;
  }

  private loadRegion(n: number): void {
    const { ctx } = this;
    let loaded = 0;
    const after = (seg: Segment): Segment | undefined => ctx.segments().find((s) => s.id > seg.id);
    const reader = this.reader;
    const rec = reader.record;
    const warn = (m: string): void => ctx.warn(m);
    while (this.region.count > 0 && loaded < n) {
      const pos = this.region.pos!; // moved past each record by the reader
      let found: boolean;
      try {
        found = reader.next(pos, after, warn);
      } catch (err) {
        ctx.warn(describeFsError(err, "could not read the store"));
        found = false;
      }
      if (!found) {
        ctx.warn(`the store expected ${this.region.count} more records on disk than it found; they are lost`);
        this.region.count = 0;
        return;
      }
      if (rec.type === RecordType.Ack || this.skipped(rec.seq)) continue;
      let uplink: Uplink;
      try {
        uplink = readUplink(reader.buf, rec.payloadStart, rec.end, ctx.pieces);
      } catch (err) {
        ctx.warn(`a record of the store passed its checksum but cannot be read (${(err as Error).message}); skipped`);
        this.region.count--;
        continue;
      }
      const user = ctx.live.size > 0 ? ctx.live.get(rec.seq) : undefined;
      if (user) ctx.live.delete(rec.seq);
      const se = new StoredEntry(ctx.owner, rec.seq, rec.at, uplink, false, user);
      se.prepared = readBack.prepared;
      se.durable = true;
      se.seg = pos.seg;
      se.off = reader.recordOff;
      se.bytes = rec.end - rec.start;
      this.head.push(se);
      this.region.count--;
      loaded++;
    }
  }

  private skipped(seq: number): boolean {
    const s = this.skip;
    while (this.skipIdx < s.length && s[this.skipIdx + 1] < seq) this.skipIdx += 2;
    return this.skipIdx < s.length && s[this.skipIdx] <= seq;
  }

  private compactHead(): void {
    if (this.hi === this.head.length) {
      this.head = [];
      this.hi = 0;
    } else if (this.hi > 4096 && this.hi * 2 > this.head.length) {
      this.head = this.head.slice(this.hi);
      this.hi = 0;
    }
  }
}
