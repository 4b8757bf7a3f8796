// The durable store: every accepted uplink goes into an append-only segment log (record.ts)
// with group commit (commit.ts) before it counts as stored; what the server acknowledged is
// written as ack records (tombstones), never by rewriting what waits, and a segment file is
// deleted once nothing in it or before it waits any more. After a restart, recover.ts reads
// the log back; those entries belong to a dead process, so their resolve/reject end nothing.
//
// In memory the queue is   head ++ region ++ tail:   `head` is what leaves next (requeued
// entries, entries read back from disk), `region` a run of the log that waits on disk only
// (read back on demand), `tail` the newest entries. With done-when "stored", entries whose
// msgs are done move from the tail into the region once more than `memoryEntries` wait, so
// that a long outage fills the disk, not the heap. With "acknowledged" every live entry stays
// in memory (its msg is held by Node-RED until done anyway): the disk is for crashes only.
import { EventEmitter } from "events";
import fs from "fs";
import path from "path";
import type { Uplink } from "../../records";
import type { Entry, StoreEvents, UplinkStore } from "../types";
import { GroupCommit } from "./commit";
import { describeFsError, StoreError, type StoreErrorCode } from "./errors";
import { DirLock } from "./lock";
import { LogReader, type Position } from "./reader";
import { MAGIC, RecordType } from "./record";
import { inRanges, recover } from "./recover";
import type { Segment } from "./segment-file";
import { LossReport, RateMeter, fmtBytes, fmtAge } from "./disk-stats";

export type DoneWhen = "stored" | "acknowledged";
export type StorePolicy = "reject" | "drop-oldest";

export interface DiskStoreOptions {
  /** The folder of this store (one per gateway-config). */
  dir: string;
  /** Most bytes of waiting records (0: no cap). */
  maxBytes: number;
  /** Most age of a waiting record, ms (0: no limit). */
  maxAgeMs: number;
  /** At the cap or the age limit: refuse new msgs, or drop the oldest. */
  policy: StorePolicy;
  /** When a msg's `done()` comes: once its record is on disk, or once the server acknowledged it. */
  doneWhen: DoneWhen;
  segmentBytes: number;
  /** Group commit: how long a record waits for others to share its fsync, ms. */
  commitDelayMs: number;
  /** Entries kept in memory beyond which (done-when "stored") the newest wait on disk only. */
  memoryEntries: number;
}

export const DISK_DEFAULTS: Omit<DiskStoreOptions, "dir"> = {
  maxBytes: 256 * 1024 * 1024,
  maxAgeMs: 0,
  policy: "reject",
  doneWhen: "stored",
  segmentBytes: 4 * 1024 * 1024,
  commitDelayMs: 3,
  memoryEntries: 20000,
};

export type DiskState = "new" | "opening" | "open" | "failed" | "closed";

export interface DiskStoreStats {
  state: DiskState;
  /** Why the store cannot be used (state "failed"). */
  error?: string;
  dir: string;
  /** Entries waiting (not yet handed to the connection), bytes of every unacknowledged record. */
  waiting: number;
  bytes: number;
  maxBytes: number;
  maxAgeMs: number;
  /** Accept time of the oldest waiting entry. */
  oldestAt?: number;
  /** Bytes of the segment files (includes acknowledged records of files not yet deleted). */
  diskBytes: number;
  segments: number;
  /** Entries found on disk at open (from the previous run). */
  recovered: number;
  /** Live msgs ended with an error at the cap or the age limit (dropped / refused). */
  dropped: number;
  refused: number;
  /** Entries dropped whose msgs were already done (stored, or recovered from a previous run). */
  droppedStored: number;
  /** Bytes per second coming in and leaving (acknowledged), over the last seconds. */
  inRate: number;
  outRate: number;
  /** At the present rates, ms until the cap is reached (undefined when not filling up). */
  fullInMs?: number;
}

/** The store's entry: its record's place, and the msg's own callbacks while they still matter. */
export class StoredEntry implements Entry {
  /** The msg's callbacks; undefined once ended (or for entries of a previous run). */
  user: Entry | undefined;
  durable = false;
  finished = false;
  seg!: Segment;
  off = 0;
  bytes = 0;

  constructor(readonly owner: DiskStore, readonly seq: number, readonly at: number, readonly uplink: Uplink, readonly free: boolean | undefined, user: Entry | undefined) {
    this.user = user;
  }

  resolve(): void {
    this.owner.settle(this);
  }

  reject(err: Error): void {
    this.owner.settle(this, err);
  }
}

/**
 * Requests with an id mean nothing to a restarted process, and the session's own announcements
 * of devices are made again from the device list after every connect: their records are
 * skipped by recovery (and do not count as waiting there).
 */
function recordType(e: Entry): RecordType {
  return e.free || e.uplink.kind === "attributeRequest" || e.uplink.kind === "gatewayRpcRequest" ? RecordType.Volatile : RecordType.Data;
}

function errorCode(err: Error): string | undefined {
  return (err as { code?: unknown }).code as string | undefined;
}

export class DiskStore extends EventEmitter implements UplinkStore {
  readonly opts: DiskStoreOptions;
  readonly dir: string;
  private state: DiskState = "new";
  private failure: string | undefined;
  private ready: Promise<void> | undefined;
  private head: Entry[] = [];
  private hi = 0;
  private tail: StoredEntry[] = [];
  private ti = 0;
  private region: { count: number; pos: Position | undefined } = { count: 0, pos: undefined };
  /** Pushed, and adopted (to go first), before the log was open. */
  private preopen: Entry[] = [];
  private preFront: Entry[] = [];
  private segs: Segment[] = [];
  private commit: GroupCommit<StoredEntry> | undefined;
  private readonly reader = new LogReader();
  /** Sequence numbers inside the region's span that are not part of it (flattened ranges). */
  private skip: number[] = [];
  private skipIdx = 0;
  /** Callbacks of a predecessor's entries (a redeploy), found again when their record is read. */
  private readonly live = new Map<number, Entry>();
  private hooks: StoreEvents | undefined;
  private lock: DirLock | undefined;
  private nextSeq = 1;
  private waitingBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly inMeter = new RateMeter();
  private readonly outMeter = new RateMeter();
  private readonly losses: LossReport;
  private readonly counts = { recovered: 0, dropped: 0, refused: 0, droppedStored: 0 };

  constructor(opts: Partial<DiskStoreOptions> & { dir: string }) {
    super();
    this.opts = { ...DISK_DEFAULTS, ...opts };
    this.dir = path.resolve(opts.dir);
    this.losses = new LossReport((m) => this.warn(m));
  }

  get size(): number {
    const mem = this.head.length - this.hi;
    return this.state === "open" || this.state === "failed" ? mem + this.region.count + (this.tail.length - this.ti) : mem;
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
    return this.commit ? { ...this.commit.counts } : { commits: 0, records: 0 };
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
    this.head = front.concat(this.head.slice(this.hi));
    this.hi = 0;
    if (absorbed > 0) this.hooks?.removed(absorbed);
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

  dropOldest(): Entry | undefined {
    return this.take(1)[0];
  }

  clear(): Entry[] {
    const out: Entry[] = this.head.slice(this.hi).concat(this.preFront, this.tail.slice(this.ti), this.preopen);
    for (const [seq, user] of this.live) out.push(new StoredEntry(this, seq, Date.now(), user.uplink, user.free, user));
    this.live.clear();
    this.head = [];
    this.hi = 0;
    this.tail = [];
    this.ti = 0;
    this.preFront = [];
    this.preopen = [];
    this.region = { count: 0, pos: undefined }; // still on disk, read back at the next open
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
      if (this.commit) await this.commit.close();
    } finally {
      this.reader.close();
      this.lock?.release();
      this.lock = undefined;
      if (removed) fs.rmSync(this.dir, { recursive: true, force: true });
    }
  }

  stats(): DiskStoreStats {
    const oldest = this.state === "open" ? this.peekOldest() : undefined;
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
      diskBytes: this.segs.reduce((n, s) => n + s.size, 0),
      segments: this.segs.length,
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
    if (err && errorCode(err) === "closed") {
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

  // ---- writing ----------------------------------------------------------------------------

  /** Persists a new entry (at the head when `front`); undefined when it was refused (and rejected). */
  private append(entry: Entry, front: boolean): StoredEntry | undefined {
    const commit = this.commit!;
    if (commit.failure) {
      this.counts.refused++;
      entry.reject(new StoreError(this.failure ?? "the store cannot be written", "unwritable"));
      return undefined;
    }
    let json: string;
    try {
      json = JSON.stringify(entry.uplink);
    } catch (err) {
      entry.reject(new StoreError(`cannot be stored: ${(err as Error).message}`, "invalid"));
      return undefined;
    }
    if (!entry.free && !this.admit(json.length + 25, entry)) return undefined;
    const seq = this.nextSeq++;
    const at = Date.now();
    const se = new StoredEntry(this, seq, at, entry.uplink, entry.free, entry);
    const placed = commit.append(recordType(entry), seq, at, json, se);
    se.seg = placed.seg;
    se.off = placed.off;
    se.bytes = placed.bytes;
    placed.seg.count++;
    this.waitingBytes += placed.bytes;
    this.inMeter.add(placed.bytes);
    if (front) this.skip.push(seq, seq); // in the log after the region, but leaves from the head
    else this.tail.push(se);
    return se;
  }

  /** The cap and the age limit, by the policy; false when `entry` was refused. */
  private admit(need: number, entry: Entry): boolean {
    const { maxBytes, maxAgeMs, policy } = this.opts;
    if (policy === "reject") {
      if (maxBytes > 0 && this.waitingBytes + need > maxBytes) return this.refuse(entry, `the store is full: ${fmtBytes(this.waitingBytes)} wait for the connection (cap ${fmtBytes(maxBytes)}); this msg was not accepted`, "full");
      if (maxAgeMs > 0) {
        const oldest = this.peekOldest();
        if (oldest && oldest.at < Date.now() - maxAgeMs) return this.refuse(entry, `the store is full: its oldest msg has waited ${fmtAge(Date.now() - oldest.at)}, more than the maximum age (${fmtAge(maxAgeMs)}); this msg was not accepted`, "expired");
      }
      return true;
    }
    if (maxAgeMs > 0) this.expire();
    while (maxBytes > 0 && this.waitingBytes + need > maxBytes) {
      const victim = this.shiftOldest();
      if (!victim) return this.refuse(entry, `the store is full (cap ${fmtBytes(maxBytes)}) with msgs in flight; this msg was not accepted`, "full");
      this.drop(victim, `the store is full (cap ${fmtBytes(maxBytes)}): the oldest waiting msg was dropped for a newer one`, "full");
    }
    return true;
  }

  private refuse(entry: Entry, message: string, code: StoreErrorCode): false {
    this.counts.refused++;
    this.emit("full", this.waitingBytes);
    entry.reject(new StoreError(message, code));
    return false;
  }

  /** Ends an entry taken out of the queue by the cap or the age limit. */
  private drop(e: Entry, message: string, code: StoreErrorCode): void {
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

  /** Its record needs no delivery any more: an ack record, and the segment may go. */
  private finish(se: StoredEntry): void {
    if (se.finished) return;
    se.finished = true;
    this.waitingBytes -= se.bytes;
    this.outMeter.add(se.bytes);
    se.seg.done++;
    if (this.state === "closed") return;
    this.commit?.ack(se.seq);
    this.collect();
  }

  /** Deletes segment files from the oldest on while nothing in them waits. */
  private collect(): void {
    const active = this.commit?.active;
    while (this.segs.length > 0) {
      const s = this.segs[0];
      if (s === active || !s.finished || s.written < s.size) return;
      this.segs.shift();
      s.deleted = true;
      this.reader.release(s);
      fs.unlink(s.path, (err) => {
        if (err && err.code !== "ENOENT") this.warn(describeFsError(err, `could not delete ${s.path}`));
      });
    }
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
    this.evict();
  }

  private onFailed(err: Error, items: StoredEntry[]): void {
    this.fail(err, "the store cannot be written");
    const lost = new Set(items.filter((se) => !se.finished));
    if (lost.size === 0) return;
    this.head = this.head.slice(this.hi).filter((e) => !lost.has(e as StoredEntry));
    this.hi = 0;
    this.tail = this.tail.slice(this.ti).filter((e) => !lost.has(e));
    this.ti = 0;
    let counted = 0;
    for (const se of lost) {
      se.finished = true;
      this.waitingBytes -= se.bytes;
      if (!se.free) counted++;
      const user = se.user;
      se.user = undefined;
      user?.reject(new StoreError(this.failure!, "unwritable"));
    }
    if (counted > 0) this.hooks?.removed(counted);
  }

  /** Done-with entries beyond the memory budget wait on disk only (done-when "stored"). */
  private evict(): void {
    if (this.opts.doneWhen !== "stored" || this.state !== "open") return;
    let over = this.head.length - this.hi + (this.tail.length - this.ti) - this.opts.memoryEntries;
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

  // ---- reading ----------------------------------------------------------------------------

  /** Moves the next entries into the head (from the region, else the tail); false when none. */
  private refill(want: number): boolean {
    this.head = [];
    this.hi = 0;
    if (this.state !== "open" && this.state !== "failed") return false;
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
    let loaded = 0;
    const after = (seg: Segment): Segment | undefined => this.segs.find((s) => s.id > seg.id);
    while (this.region.count > 0 && loaded < n) {
      let r: ReturnType<LogReader["next"]>;
      try {
        r = this.reader.next(this.region.pos!, after, (m) => this.warn(m));
      } catch (err) {
        this.warn(describeFsError(err, `could not read the store`));
        r = undefined;
      }
      if (!r) {
        this.warn(`the store expected ${this.region.count} more records on disk than it found; they are lost`);
        this.region.count = 0;
        return;
      }
      const rec = r.record;
      const seg = r.next.seg;
      this.region.pos = r.next;
      if (rec.type === RecordType.Ack || this.skipped(rec.seq)) continue;
      let uplink: Uplink;
      try {
        uplink = JSON.parse(r.buf.toString("utf8", rec.payloadStart, rec.end)) as Uplink;
      } catch {
        this.warn(`a record of the store passed its checksum but is not JSON; skipped`);
        this.region.count--;
        continue;
      }
      const user = this.live.get(rec.seq);
      if (user) this.live.delete(rec.seq);
      const se = new StoredEntry(this, rec.seq, rec.at, uplink, false, user);
      se.durable = true;
      se.seg = seg;
      se.off = r.next.off - (rec.end - rec.start);
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

  /** The oldest waiting entry of the log (loaded into the head when it was on disk). */
  private peekOldest(): StoredEntry | undefined {
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
  private shiftOldest(): Entry | undefined {
    const skipped: Entry[] = [];
    let e = this.take(1)[0];
    while (e && e.free) {
      skipped.push(e);
      e = this.take(1)[0];
    }
    if (skipped.length > 0) {
      this.head = skipped.concat(this.head.slice(this.hi));
      this.hi = 0;
    }
    return e;
  }

  private compactHead(): void {
    if (this.hi === this.head.length) {
      this.head = [];
      this.hi = 0;
    } else if ((this.hi > 4096 && this.hi * 2 > this.head.length)) {
      this.head = this.head.slice(this.hi);
      this.hi = 0;
    }
  }

  // ---- opening, limits, failure -----------------------------------------------------------

  private openNow(): void {
    try {
      fs.mkdirSync(this.dir, { recursive: true });
    } catch (err) {
      throw new Error(describeFsError(err, `the store folder ${this.dir} cannot be created`));
    }
    this.lock = DirLock.acquire(this.dir);
    try {
      const r = recover(this.dir);
      for (const w of r.warnings) this.warn(w);
      this.segs = r.segments;
      this.nextSeq = r.nextSeq;
      this.waitingBytes = r.waitingBytes;
      this.skip = r.skip;
      this.commit = new GroupCommit<StoredEntry>(this.dir, r.nextSegment, { delayMs: this.opts.commitDelayMs, segmentBytes: this.opts.segmentBytes }, {
        created: (seg) => this.segs.push(seg),
        durable: (items) => this.onDurable(items),
        failed: (err, items) => this.onFailed(err, items),
      });
      const waitingSeqs = r.waiting.seq;
      this.counts.recovered = waitingSeqs.length;
      this.state = "open";
      this.collect();
      this.region = { count: waitingSeqs.length, pos: waitingSeqs.length > 0 ? { seg: this.segs[0], off: MAGIC.length } : undefined };
      for (const [seq, user] of this.live) {
        if (inSorted(waitingSeqs, seq)) continue;
        this.live.delete(seq);
        user.reject(new StoreError("was handed over on a redeploy but its record was not found in the store", "lost"));
      }
      if (waitingSeqs.length > 0) {
        this.emit("recovered", { count: waitingSeqs.length, bytes: r.waitingBytes, oldestAt: Math.min(...r.waiting.at.slice(0, 1000)) });
      }
      if (r.volatile > 0) this.emit("info", `${r.volatile} requests and device announcements of the previous run were not sent again (nobody waits for the answers; devices are announced from the device list)`);
    } catch (err) {
      this.lock?.release();
      this.lock = undefined;
      throw err;
    }
    const front = this.preFront.splice(0);
    const later = this.preopen.splice(0);
    const added: Entry[] = [];
    for (const e of front) {
      const se = this.append(e, true);
      if (se) added.push(se);
      else if (!e.free) this.hooks?.removed(1);
    }
    this.head = this.head.slice(this.hi).concat(added);
    this.hi = 0;
    for (const e of later) if (!this.append(e, false) && !e.free) this.hooks?.removed(1);
    this.timer = setInterval(() => this.housekeeping(), 1000);
    this.timer.unref?.();
    this.applyLimits();
    if (this.counts.recovered > 0) this.hooks?.added(this.counts.recovered);
  }

  private housekeeping(): void {
    this.inMeter.tick();
    this.outMeter.tick();
    this.applyLimits();
    this.losses.flush();
  }

  /** Drop-oldest: drops what is past the age limit, and what a lowered cap no longer holds. */
  private applyLimits(): void {
    if (this.state !== "open" || this.opts.policy !== "drop-oldest") return;
    const { maxBytes } = this.opts;
    while (maxBytes > 0 && this.waitingBytes > maxBytes) {
      const victim = this.shiftOldest();
      if (!victim) break;
      this.drop(victim, `the store is full (cap ${fmtBytes(maxBytes)}): the oldest waiting msg was dropped`, "full");
    }
    if (this.opts.maxAgeMs > 0) this.expire();
  }

  private expire(): void {
    const maxAgeMs = this.opts.maxAgeMs;
    const limit = Date.now() - maxAgeMs;
    for (let oldest = this.peekOldest(); oldest && oldest.at < limit; oldest = this.peekOldest()) {
      const victim = this.shiftOldest();
      if (!victim) break;
      this.drop(victim, `waited longer than the maximum age of the store (${fmtAge(maxAgeMs)}) and was dropped`, "expired");
    }
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
