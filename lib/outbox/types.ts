import type { Uplink } from "../records";

/** An uplink waiting to be delivered, with the promise its sender awaits. */
export interface Entry {
  uplink: Uplink;
  resolve: () => void;
  reject: (err: Error) => void;
  /** Not counted against the bound (the session's own announcements of devices). */
  free?: boolean;
}

/**
 * Where accepted uplinks wait until the server acknowledged them. The memory store is the
 * default; a durable store implements the same interface.
 */
export interface UplinkStore {
  readonly size: number;
  push(entry: Entry): void;
  /** Puts entries back at the head, in their order (after a lost connection). */
  unshift(entries: Entry[]): void;
  /** Takes up to `max` entries from the head. */
  take(max: number): Entry[];
  /** Removes and returns the oldest entry (overflow policy "drop oldest"). */
  dropOldest(): Entry | undefined;
  /** Empties the store, returning what it held. */
  clear(): Entry[];
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
