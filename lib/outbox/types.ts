import type { Prepared } from "../dialect/types";
import type { Uplink } from "../records";

/** An uplink waiting to be delivered, with the promise its sender awaits. */
export interface Entry {
  uplink: Uplink;
  resolve: () => void;
  reject: (err: Error) => void;
  /** Not counted against the bound (the session's own announcements of devices). */
  free?: boolean;
  /** The uplink serialised when it was accepted (absent for one recovered from disk: prepared again). */
  prepared?: Prepared;
  /** Made again by the session on each connect (announcements, the limits request): dropped when the connection is lost. */
  transient?: boolean;
  /** Times the connection closed while this entry was in flight (see isolation.ts). */
  strikes?: number;
}

/**
 * What a store that changes on its own (a durable one: it opens asynchronously, applies its
 * byte cap and age limit) tells the outbox, so that the outbox's counts stay right.
 */
export interface StoreEvents {
  /** `count` entries became available without a push (recovered from disk once it opened). */
  added(count: number): void;
  /** `count` counted entries left the store without a take (dropped or absorbed by it; each already ended). */
  removed(count: number): void;
}

/**
 * Where accepted uplinks wait until the server acknowledged them. The memory store is the
 * default; a durable store implements the same interface.
 */
export interface UplinkStore {
  /** Entries that `take` can hand out now. */
  readonly size: number;
  /** Returns false when the store refused the entry (it has rejected it already). */
  push(entry: Entry): void | boolean;
  /** Puts entries back at the head, in their order (after a lost connection). */
  unshift(entries: Entry[]): void;
  /** Takes up to `max` entries from the head. */
  take(max: number): Entry[];
  /** Removes and returns the oldest entry (overflow policy "drop oldest"). */
  dropOldest(): Entry | undefined;
  /** Empties the store, returning what it held (a durable store keeps what is on disk for its next open). */
  clear(): Entry[];
  /** Optional: the outbox passes its hooks once, at construction. */
  bind?(events: StoreEvents): void;
}

export type OverflowPolicy = "reject" | "drop-oldest";

export interface OutboxOptions {
  /** Most uplinks held while they cannot be sent. */
  maxQueued: number;
  overflow: OverflowPolicy;
  /** How long the first uplink waits for others to share its publish, in ms. */
  batchWindowMs: number;
  /** Most uplinks encoded in one batch. */
  maxBatch: number;
  /** Most publishes awaiting their PUBACK at once. */
  maxInflight: number;
}
