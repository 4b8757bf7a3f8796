// The disk store's entry: its record's place in the log, and the msg's own callbacks while
// they still matter (with done-when "stored" they are called, and dropped, once the record is
// on disk; entries read back from a previous run have none).
import type { Prepared } from "../../dialect/types";
import type { Uplink } from "../../records";
import type { Entry } from "../types";
import { RecordType } from "./record";
import type { Segment } from "./segment-file";

/** What an entry needs of the store it belongs to. */
export interface EntryOwner {
  readonly dir: string;
  settle(se: StoredEntry, err?: Error): void;
}

export class StoredEntry implements Entry {
  /** The msg's callbacks; undefined once ended (or for entries of a previous run). */
  user: Entry | undefined;
  durable = false;
  finished = false;
  seg!: Segment;
  off = 0;
  bytes = 0;
  /** The uplink as serialised at accept, or rebuilt from its record when read back (none: the outbox prepares it again). */
  prepared: Prepared | undefined;
  /** The outbox's count of closes while it was in flight (isolation.ts). */
  strikes?: number;

  constructor(readonly owner: EntryOwner, readonly seq: number, readonly at: number, readonly uplink: Uplink, readonly free: boolean | undefined, user: Entry | undefined) {
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
export function recordType(e: Entry): RecordType {
  return e.free || e.uplink.kind === "attributeRequest" || e.uplink.kind === "gatewayRpcRequest" ? RecordType.Volatile : RecordType.Data;
}
