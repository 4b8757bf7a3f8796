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

/**
 * Every field is set in the constructor, in one order: a field added later (the compiled class
 * sets only those with an initialiser) gives the entry another hidden class, and the entries of
 * one store two or three (appended, read back, struck), which made the outbox's accesses to
 * them polymorphic (the memory store's MsgEntry declares its fields for the same reason).
 */
export class StoredEntry implements Entry {
  /** The msg's callbacks; undefined once ended (or for entries of a previous run). */
  user: Entry | undefined;
  durable = false;
  finished = false;
  /** Its segment: set once its record is placed (an entry made up in `clear` for a handed-over msg has none). */
  seg: Segment;
  off = 0;
  bytes = 0;
  /** The uplink as serialised at accept, or rebuilt from its record when read back (none: the outbox prepares it again). */
  prepared: Prepared | undefined = undefined;
  /** The outbox's count of closes while it was in flight (isolation.ts). */
  strikes: number | undefined = undefined;

  constructor(readonly owner: EntryOwner, readonly seq: number, readonly at: number, readonly uplink: Uplink, readonly free: boolean | undefined, user: Entry | undefined) {
    this.user = user;
    this.seg = undefined as unknown as Segment;
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
  if (e.free) return RecordType.Volatile;
  const kind = e.uplink.kind;
  return kind === "attributeRequest" || kind === "gatewayRpcRequest" ? RecordType.Volatile : RecordType.Data;
}
