// The byte cap and the maximum age, by the chosen policy. "reject" refuses the new msg while
// the store is over a limit; "drop-oldest" makes room by ending the oldest waiting msgs (each
// with a catchable error while its msg lives; counted and summed up in a warning otherwise).
// Per new msg this is one comparison with the cap; the age is looked at again only once the
// oldest waiting msg known may have passed the limit (`youngUntil`).
import type { Entry } from "../types";
import { fmtAge, fmtBytes } from "./disk-stats";
import type { DiskStoreOptions } from "./disk-types";
import type { StoreErrorCode } from "./errors";
import type { WaitQueue } from "./queue";

/** What the limits need of the store. */
export interface LimitedStore {
  readonly opts: DiskStoreOptions;
  /** Bytes of every record not yet acknowledged. */
  readonly bytes: number;
  readonly queue: WaitQueue;
  /**
   * Until this time (ms) nothing waiting is older than the maximum age: the oldest entry's accept
   * time plus the limit, when it was last looked at. The store sets it to 0 when older entries
   * may have come back to the queue (unshift).
   */
  youngUntil: number;
  /** Ends `entry` (not accepted) with an error; false. */
  refuse(entry: Entry, message: string, code: StoreErrorCode): false;
  /** Ends an entry taken out of the queue. */
  drop(e: Entry, message: string, code: StoreErrorCode): void;
}

/** Whether a new entry of `need` bytes may be stored; false when it was refused. */
export function admit(s: LimitedStore, need: number, entry: Entry, now: number): boolean {
  const { maxBytes, maxAgeMs, policy } = s.opts;
  const aged = maxAgeMs > 0 && now > s.youngUntil;
  if (!aged && (maxBytes === 0 || s.bytes + need <= maxBytes)) return true;
  if (policy === "reject") {
    if (maxBytes > 0 && s.bytes + need > maxBytes) return s.refuse(entry, `the store is full: ${fmtBytes(s.bytes)} wait for the connection (cap ${fmtBytes(maxBytes)}); this msg was not accepted`, "full");
    if (aged) {
      const oldest = s.queue.peekOldest();
      if (oldest && oldest.at < now - maxAgeMs) return s.refuse(entry, `the store is full: its oldest msg has waited ${fmtAge(now - oldest.at)}, more than the maximum age (${fmtAge(maxAgeMs)}); this msg was not accepted`, "expired");
      s.youngUntil = (oldest ? oldest.at : now) + maxAgeMs;
    }
    return true;
  }
  if (aged) expire(s);
  while (maxBytes > 0 && s.bytes + need > maxBytes) {
    const victim = s.queue.shiftOldest();
    if (!victim) return s.refuse(entry, `the store is full (cap ${fmtBytes(maxBytes)}) with msgs in flight; this msg was not accepted`, "full");
    s.drop(victim, `the store is full (cap ${fmtBytes(maxBytes)}): the oldest waiting msg was dropped for a newer one`, "full");
  }
  return true;
}

/** Drop-oldest, once a second: what is past the age limit, and what a lowered cap no longer holds. */
export function applyLimits(s: LimitedStore): void {
  if (s.opts.policy !== "drop-oldest") return;
  const { maxBytes } = s.opts;
  while (maxBytes > 0 && s.bytes > maxBytes) {
    const victim = s.queue.shiftOldest();
    if (!victim) break;
    s.drop(victim, `the store is full (cap ${fmtBytes(maxBytes)}): the oldest waiting msg was dropped`, "full");
  }
  if (s.opts.maxAgeMs > 0) expire(s);
}

function expire(s: LimitedStore): void {
  const maxAgeMs = s.opts.maxAgeMs;
  const now = Date.now();
  const limit = now - maxAgeMs;
  let oldest = s.queue.peekOldest();
  for (; oldest && oldest.at < limit; oldest = s.queue.peekOldest()) {
    const victim = s.queue.shiftOldest();
    if (!victim) break;
    s.drop(victim, `waited longer than the maximum age of the store (${fmtAge(maxAgeMs)}) and was dropped`, "expired");
  }
  // An old entry that could not be taken (only announcements before it) is looked at again each time.
  s.youngUntil = oldest === undefined ? now + maxAgeMs : oldest.at >= limit ? oldest.at + maxAgeMs : 0;
}
