// The durable store: every accepted uplink goes into an append-only segment log (record.ts)
// with group commit (commit.ts) before it counts as stored; what the server acknowledged is
// written as ack records (tombstones), never by rewriting what waits, and a segment file is
// deleted once nothing in it or before it waits any more. After a restart, recover.ts reads
// the log back; those entries belong to a dead process, so their resolve/reject end nothing.
//
// This file keeps the msgs' side (when a msg is stored, done, dropped, handed to a successor);
// the files are log.ts, what waits is kept in order by queue.ts (memory for the newest, the log
// itself for a long backlog), the cap and the age limit are limits.ts. With done-when "acknowledged" every live
// entry stays in memory (its msg is held by Node-RED until done anyway): the disk is for
// crashes only.
import { EventEmitter } from "events";
import path from "path";
import type { Entry, StoreEvents, UplinkStore } from "../types";
import { LossReport, RateMeter, fmtAge, fmtBytes } from "./disk-stats";
import { DISK_DEFAULTS, type DiskState, type DiskStoreOptions, type DiskStoreStats } from "./disk-types";
import { describeFsError, StoreError, type StoreErrorCode } from "./errors";
import { admit, applyLimits, type LimitedStore } from "./limits";
import { WaitQueue } from "./queue";
import { removeStoreFiles, SegmentLog } from "./log";
import type { Segment } from "./segment-file";
import { recordType, StoredEntry } from "./stored-entry";
import { TurnClock } from "./turn-clock";
import { PayloadWriter } from "./uplink-frame";

export { DISK_DEFAULTS, type DiskState, type DiskStoreOptions, type DiskStoreStats, type DoneWhen, type StorePolicy } from "./disk-types";
export { StoredEntry } from "./stored-entry";

export class DiskStore extends EventEmitter implements UplinkStore, LimitedStore {
  readonly opts: DiskStoreOptions;
  readonly dir: string;
  private state: DiskState = "new";
  private failure: string | undefined = undefined;
  private ready: Promise<void> | undefined = undefined;
  /** Callbacks of a predecessor's entries (a redeploy), found again when their record is read. */
  private readonly live = new Map<number, Entry>();
  private log: SegmentLog<StoredEntry> | undefined = undefined;
  readonly queue: WaitQueue;
  /** Pushed, and adopted (to go first), before the log was open. */
  private preopen: Entry[] = [];
  private preFront: Entry[] = [];
  private hooks: StoreEvents | undefined = undefined;
  private nextSeq = 1;
  private waitingBytes = 0;
  private timer: NodeJS.Timeout | undefined = undefined;
  private readonly inMeter = new RateMeter();
  private readonly outMeter = new RateMeter();
  private readonly losses: LossReport;
  private readonly counts = { recovered: 0, dropped: 0, refused: 0, droppedStored: 0 };
  private readonly payload = new PayloadWriter();
  private readonly clock = new TurnClock();
  /** See LimitedStore (limits.ts). */
  youngUntil = 0;

  constructor(opts: Partial<DiskStoreOptions> & { dir: string }) {
    super();
    this.opts = { ...DISK_DEFAULTS, ...opts };
    this.dir = path.resolve(opts.dir);
    this.losses = new LossReport((m) => this.warn(m));
    this.queue = new WaitQueue({ owner: this, segments: () => this.log?.segs ?? [], live: this.live, warn: (m) => this.warn(m), pieces: this.opts.telemetryPieces }, this.opts.memoryEntries);
  }

  get size(): number {
    return this.queue.size;
  }

  /** Waiting bytes (every record not yet acknowledged, in flight included). */
  get bytes(): number {
    return this.waitingBytes;
  }

  get status(): DiskState {
    return this.state;
  }

  /** Commits and records written so far (the benchmark prints records per fsync). */
  get commits(): { commits: number; records: number } {
    return this.log ? this.log.counts : { commits: 0, records: 0 };
  }

  bind(events: StoreEvents): void {
    this.hooks = events;
  }

  /**
   * Opens the folder: creates it, takes its lock, reads back what waits in it. Never rejects:
   * a folder that cannot be used puts the store in state "failed" (every msg refused with the
   * reason, event "failed").
   */
  open(): Promise<void> {
    if (this.ready) return this.ready;
    this.state = "opening";
    this.ready = new Promise<void>((resolve) =>
      setImmediate(() => {
        try {
          if (this.state === "opening") this.openNow();
        } catch (err) {
          this.fail(err, "the store folder cannot be used");
        }
        resolve();
      }),
    );
    return this.ready;
  }

  push(entry: Entry): boolean {
    switch (this.state) {
      case "open":
        return this.append(entry, false) !== undefined;
      case "new":
      case "opening":
        this.preopen.push(entry);
        return true;
      case "failed":
        this.counts.refused++;
        entry.reject(new StoreError(this.failure ?? "the store cannot be written", "unwritable"));
        return false;
      case "closed":
        entry.reject(new StoreError("the store is closed", "closed"));
        return false;
    }
  }

  unshift(entries: Entry[]): void {
    if (entries.length === 0) return;
    this.youngUntil = 0; // older entries may be back
    const front: Entry[] = [];
    let absorbed = 0;
    for (const e of entries) {
      if (e instanceof StoredEntry && e.owner === this) {
        front.push(e);
      } else if (e instanceof StoredEntry && e.owner.dir === this.dir) {
        // A predecessor's entry (redeploy): its record is in this folder and comes back from the
        // log; only its msg's callbacks are kept, to be joined to it again.
        if (e.user && !e.finished) this.live.set(e.seq, e.user);
        e.user = undefined;
        if (!e.free) absorbed++;
      } else if (e.free) {
        front.push(e); // the session's announcements: regenerated after every connect, never stored
      } else if (this.state === "open") {
        const se = this.append(e, true);
        if (se) front.push(se);
        else absorbed++;
      } else if (this.state === "new" || this.state === "opening") {
        this.preFront.push(e);
      } else {
        e.reject(new StoreError(this.failure ?? "the store is closed", this.state === "failed" ? "unwritable" : "closed"));
        absorbed++;
      }
    }
    this.queue.unshift(front);
    if (absorbed > 0) this.hooks?.removed(absorbed);
  }

  take(max: number): Entry[] {
    return this.queue.take(max);
  }

  dropOldest(): Entry | undefined {
    return this.queue.take(1)[0];
  }

  clear(): Entry[] {
    const q = this.queue.clear();
    const out: Entry[] = q.head.concat(this.preFront, q.tail, this.preopen);
    for (const [seq, user] of this.live) out.push(new StoredEntry(this, seq, Date.now(), user.uplink, user.free, user));
    this.live.clear();
    this.preFront = [];
    this.preopen = [];
    return out;
  }

  /**
   * Writes what is pending and closes the files; `removed` (the gateway-config was deleted)
   * also deletes the folder. Call `clear` first (the outbox's close or handOver does).
   */
  async close(removed = false): Promise<void> {
    if (this.ready) await this.ready;
    if (this.state === "closed") return;
    this.state = "closed";
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.losses.flush();
    try {
      if (this.log) await this.log.close(removed);
      else if (removed) removeStoreFiles(this.dir);
    } finally {
      this.queue.reader.close();
    }
  }

  stats(): DiskStoreStats {
    const oldest = this.state === "open" ? this.queue.peekOldest() : undefined;
    const inRate = this.inMeter.rate();
    const outRate = this.outMeter.rate();
    const net = inRate - outRate;
    return {
      state: this.state,
      error: this.failure,
      dir: this.dir,
      waiting: this.size,
      bytes: this.waitingBytes,
      maxBytes: this.opts.maxBytes,
      maxAgeMs: this.opts.maxAgeMs,
      oldestAt: oldest?.at,
      diskBytes: this.log?.diskBytes ?? 0,
      segments: this.log?.segs.length ?? 0,
      ...this.counts,
      inRate,
      outRate,
      fullInMs: this.opts.maxBytes > 0 && net > 0 ? Math.max(0, ((this.opts.maxBytes - this.waitingBytes) / net) * 1000) : undefined,
    };
  }

  /** Called through an entry's resolve / reject: the server acknowledged or refused it, or the session closed. */
  settle(se: StoredEntry, err?: Error): void {
    if (se.finished) return;
    const user = se.user;
    se.user = undefined;
    if (err && (err as { code?: unknown }).code === "closed") {
      // The session ends (a stop, not a verdict on the data): the record stays for the next open.
      user?.reject(err);
      return;
    }
    this.finish(se);
    if (user) {
      if (err) user.reject(err);
      else user.resolve();
    } else if (err) {
      this.losses.note(`refused by the server after they were stored: ${err.message}`);
    }
  }

  refuse(entry: Entry, message: string, code: StoreErrorCode): false {
    this.counts.refused++;
    this.emit("full", this.waitingBytes);
    entry.reject(new StoreError(message, code));
    return false;
  }

  /** Ends an entry taken out of the queue by the cap or the age limit. */
  drop(e: Entry, message: string, code: StoreErrorCode): void {
    if (e instanceof StoredEntry) {
      const user = e.user;
      e.user = undefined;
      this.finish(e);
      if (user) {
        this.counts.dropped++;
        user.reject(new StoreError(message, code));
      } else {
        this.counts.droppedStored++;
        this.losses.note(code === "expired" ? `older than the maximum age (${fmtAge(this.opts.maxAgeMs)})` : `the store was full (cap ${fmtBytes(this.opts.maxBytes)})`);
      }
    } else {
      this.counts.dropped++;
      e.reject(new StoreError(message, code));
    }
    if (!e.free) this.hooks?.removed(1);
    this.emit("full", this.waitingBytes);
  }

  // ---- writing ----------------------------------------------------------------------------

  /** Persists a new entry (at the head when `front`); undefined when it was refused (and rejected). */
  private append(entry: Entry, front: boolean): StoredEntry | undefined {
    const log = this.log!;
    if (log.failure) {
      this.counts.refused++;
      entry.reject(new StoreError(this.failure ?? "the store cannot be written", "unwritable"));
      return undefined;
    }
    const payload = this.payload;
    // Read once: a one-point msg's entry makes its uplink anew each time it is asked (msg-entry.ts).
    const uplink = entry.uplink;
    try {
      payload.set(uplink, entry.prepared, this.opts.telemetryPieces === "ts-values");
    } catch (err) {
      entry.reject(new StoreError(`cannot be stored: ${(err as Error).message}`, "invalid"));
      return undefined;
    }
    // The cap's estimate of the record (its real size is known once written; a frame is near a third of `max`).
    const at = this.clock.now();
    if (!entry.free && !admit(this, Math.ceil(payload.max / 3) + 25, entry, at)) return undefined;
    const seq = this.nextSeq++;
    const se = new StoredEntry(this, seq, at, uplink, entry.free, entry);
    se.prepared = entry.prepared;
    const bytes = log.append(recordType(se), seq, at, payload, se);
    se.seg = log.lastSeg;
    se.off = log.lastOff;
    se.bytes = bytes;
    this.waitingBytes += bytes;
    this.inMeter.add(bytes);
    if (front) this.queue.skipInRegion(seq); // in the log after the region, but leaves from the head
    else this.queue.pushTail(se);
    return se;
  }

  /** Its record needs no delivery any more: an ack record, and the segment may go. */
  private finish(se: StoredEntry): void {
    if (se.finished) return;
    se.finished = true;
    this.waitingBytes -= se.bytes;
    this.outMeter.add(se.bytes);
    // An entry made up in `clear` for a handed-over msg whose record was not read yet has no segment.
    const seg = se.seg as Segment | undefined;
    if (this.state === "closed" || !this.log) {
      if (seg) seg.done++;
    } else this.log.ack(seg, se.seq);
  }

  private onDurable(items: StoredEntry[]): void {
    const stored = this.opts.doneWhen === "stored";
    for (const se of items) {
      se.durable = true;
      if (stored && se.user && !se.finished) {
        const user = se.user;
        se.user = undefined;
        user.resolve();
      }
    }
    if (stored && this.state === "open") this.queue.evict();
  }

  private onFailed(err: Error, items: StoredEntry[]): void {
    this.fail(err, "the store cannot be written");
    const lost = new Set<Entry>(items.filter((se) => !se.finished));
    if (lost.size === 0) return;
    this.queue.remove(lost);
    let counted = 0;
    for (const e of lost) {
      const se = e as StoredEntry;
      se.finished = true;
      this.waitingBytes -= se.bytes;
      if (!se.free) counted++;
      const user = se.user;
      se.user = undefined;
      user?.reject(new StoreError(this.failure!, "unwritable"));
    }
    if (counted > 0) this.hooks?.removed(counted);
  }

  // ---- opening, failure -------------------------------------------------------------------

  private openNow(): void {
    const { log, recovered: r } = SegmentLog.open<StoredEntry>(this.dir, { delayMs: this.opts.commitDelayMs, segmentBytes: this.opts.segmentBytes }, {
      durable: (items) => this.onDurable(items),
      failed: (err, items) => this.onFailed(err, items),
      warn: (m) => this.warn(m),
      deleted: (seg) => this.queue.reader.release(seg),
    });
    this.log = log;
    this.nextSeq = r.nextSeq;
    this.waitingBytes = r.waitingBytes;
    const waitingSeqs = r.waiting.seq;
    this.counts.recovered = waitingSeqs.length;
    this.state = "open";
    this.queue.startRegion(waitingSeqs.length, log.start, r.skip);
    for (const [seq, user] of this.live) {
      if (inSorted(waitingSeqs, seq)) continue;
      this.live.delete(seq);
      user.reject(new StoreError("was handed over on a redeploy but its record was not found in the store", "lost"));
    }
    if (waitingSeqs.length > 0) {
      this.emit("recovered", { count: waitingSeqs.length, bytes: r.waitingBytes, oldestAt: Math.min(...r.waiting.at.slice(0, 1000)) });
    }
    if (r.volatile > 0) this.emit("info", `${r.volatile} requests and device announcements of the previous run were not sent again (nobody waits for the answers; devices are announced from the device list)`);
    const front = this.preFront.splice(0);
    const later = this.preopen.splice(0);
    const added: Entry[] = [];
    for (const e of front) {
      const se = this.append(e, true);
      if (se) added.push(se);
      else if (!e.free) this.hooks?.removed(1);
    }
    this.queue.appendHead(added);
    for (const e of later) if (!this.append(e, false) && !e.free) this.hooks?.removed(1);
    this.timer = setInterval(() => this.housekeeping(), 1000);
    this.timer.unref?.();
    applyLimits(this);
    if (this.counts.recovered > 0) this.hooks?.added(this.counts.recovered);
  }

  private housekeeping(): void {
    this.inMeter.tick();
    this.outMeter.tick();
    if (this.state === "open") applyLimits(this);
    this.losses.flush();
  }

  private fail(err: unknown, what: string): void {
    const message = err instanceof Error && err.name === "LockError" ? err.message : describeFsError(err, `${what} (${this.dir})`);
    const first = this.state !== "failed";
    this.state = "failed";
    this.failure = message;
    for (const e of this.preFront.splice(0).concat(this.preopen.splice(0))) {
      this.counts.refused++;
      e.reject(new StoreError(message, "unwritable"));
      if (!e.free) this.hooks?.removed(1);
    }
    if (first) this.emit("failed", message);
  }

  private warn(message: string): void {
    this.emit("warning", message);
  }
}

function inSorted(a: number[], v: number): boolean {
  let lo = 0;
  let hi = a.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid] === v) return true;
    if (a[mid] < v) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}
