// "How much waits, how old is the oldest, how long until the cap?": one answer for both
// stores, read by the node status and the editor's sidebar. Rates are sampled once a second
// from counts the outbox and the store keep anyway, so the hot path pays nothing for them.
import type { Outbox } from "./outbox";
import type { DiskStore, DiskStoreStats } from "./store/disk";
import type { MemoryStore } from "./store/memory";

export interface OutboxStats {
  store: "memory" | "disk";
  /** Accepted msgs waiting to be sent (not the session's own announcements, not what is in flight). */
  waiting: number;
  /** Bytes of what waits on disk (disk store only). */
  bytes?: number;
  /** The cap: msgs for the memory store, bytes for the disk store. */
  cap: { msgs?: number; bytes?: number; ageMs?: number };
  /** Age of the oldest waiting msg, ms. */
  oldestAgeMs?: number;
  /** Net growth of the backlog (msgs/s for memory, bytes/s for disk), smoothed. */
  growthPerS: number;
  /** At the present rate, ms until the cap (undefined when the backlog is not growing). */
  fullInMs?: number;
  /** Disk store details (state, folder, drops, recovered entries…). */
  disk?: DiskStoreStats;
}

/** Samples an outbox (and its store) once a second; `read()` is cheap at any time. */
export class OutboxMonitor {
  private timer: NodeJS.Timeout | undefined;
  private last: { at: number; waiting: number } | undefined;
  private growth = 0;

  constructor(private readonly outbox: Outbox, private readonly store: MemoryStore | DiskStore) {}

  start(): this {
    if (!this.timer) {
      this.timer = setInterval(() => this.sample(), 1000);
      this.timer.unref?.();
    }
    return this;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  read(now = Date.now()): OutboxStats {
    const waiting = this.outbox.queued;
    if (isDisk(this.store)) {
      const disk = this.store.stats();
      return {
        store: "disk",
        waiting,
        bytes: disk.bytes,
        cap: { bytes: disk.maxBytes || undefined, ageMs: disk.maxAgeMs || undefined },
        oldestAgeMs: disk.oldestAt === undefined || waiting === 0 ? undefined : Math.max(0, now - disk.oldestAt),
        growthPerS: disk.inRate - disk.outRate,
        fullInMs: disk.fullInMs,
        disk,
      };
    }
    const oldestAt = this.store.oldestAt;
    const max = this.outbox.options.maxQueued;
    return {
      store: "memory",
      waiting,
      cap: { msgs: max },
      oldestAgeMs: oldestAt === undefined || waiting === 0 ? undefined : Math.max(0, now - oldestAt),
      growthPerS: this.growth,
      fullInMs: this.growth > 0 ? Math.max(0, ((max - this.outbox.queued) / this.growth) * 1000) : undefined,
    };
  }

  /** Takes a sample (the timer does, once a second). */
  sample(now = Date.now()): void {
    const waiting = this.outbox.queued;
    if (this.last && now > this.last.at) {
      const rate = ((waiting - this.last.waiting) * 1000) / (now - this.last.at);
      this.growth = this.growth === 0 ? rate : 0.7 * this.growth + 0.3 * rate;
    }
    this.last = { at: now, waiting };
  }
}

function isDisk(s: MemoryStore | DiskStore): s is DiskStore {
  return typeof (s as DiskStore).stats === "function";
}

/** "4,210" */
export function fmtCount(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}
