// The disk store's options and the figures it reports.

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
  /** The dialect's telemetry form (its `telemetryPieces`): read-back telemetry is then not serialised again. */
  telemetryPieces?: "ts-values";
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
