// A flow msg's uplinks as outbox entries, without a closure or a promise per msg: the entry is
// the object the outbox settles, and it calls the msg's own callback (its node's done) once.
// Held until the server acknowledged it, so it holds only what settling needs: the uplink and
// its serialised form (to send it again after a lost connection), the callback, the counters.
import type { Prepared } from "../dialect/types";
import type { TelemetryPoint, Uplink, Values } from "../records";
import type { Entry } from "./types";

/**
 * A msg's end: called once, without an argument when it was delivered. A failure comes as an
 * Error, or, when the sender gave a label, as its sentence (a string): that sender passes
 * Node-RED's own done, which takes one, called as the core nodes call it (asSentences in
 * nodes/common/gateway-user.ts), so that no wrapper per msg is held until its PUBACK.
 */
export type Done = (err?: Error) => void;

/** Told how each msg ended (the gateway's statistics). */
export interface EndCounter {
  ended(err: Error | undefined): void;
}

/** The error a node reports: its message prefixed with the node's label (once), as the adapters' userError does. */
export function labelled(err: Error, label: string | undefined): Error {
  if (label === undefined) return err;
  return new Error(err.message.startsWith(label + ":") ? err.message : `${label}: ${err.message}`);
}

/**
 * Ends a msg that failed: without a label `done` gets the error; with one (a node type) it is
 * Node-RED's done and gets the sentence, prefixed with the label, as a string: the adapter needs
 * no wrapper of its own per msg.
 */
export function fail(done: Done, err: Error, label: string | undefined): void {
  if (label === undefined) return done(err);
  (done as unknown as (sentence: string) => void)(labelled(err, label).message);
}

/**
 * An entry that ends a msg of its own (not a part of a multi-device msg): it calls the msg's done
 * once, and lets go of it then. Its fields first, in one order, so that each subclass keeps one shape.
 */
abstract class OwnEntry {
  strikes: number | undefined = undefined;
  /** The memory store's accept time: declared here so that setting it does not change the entry's shape. */
  at: number | undefined = undefined;
  private done: Done | undefined;

  constructor(public prepared: Prepared | undefined, done: Done, private readonly counter: EndCounter, private readonly label?: string) {
    this.done = done;
  }

  resolve(): void {
    const done = this.done;
    this.done = undefined; // the msg (which its node's done holds) is free for the GC from here
    done?.();
  }

  reject(err: Error): void {
    const done = this.done;
    if (!done) return;
    this.done = undefined;
    this.counter.ended(err);
    fail(done, err, this.label);
  }
}

/** The one entry of a msg that carries one uplink. */
export class MsgEntry extends OwnEntry implements Entry {
  constructor(readonly uplink: Uplink, prepared: Prepared | undefined, done: Done, counter: EndCounter, label?: string) {
    super(prepared, done, counter, label);
  }
}

/**
 * The entry of a msg of one telemetry point (most msgs): until its PUBACK it holds the device and
 * the point's ts and values (the msg holds those anyway), not an uplink, a points array and a
 * point of its own: 563 → 430 bytes held per waiting msg, the msg included (bench/engine.js),
 * each copied by every scavenge it survives. `uplink` is made when asked for (by the encoder,
 * when the entry leaves), and dies young.
 */
export class PointEntry extends OwnEntry implements Entry {
  private readonly ts: number | undefined;
  private readonly values: Values;

  constructor(readonly device: string, point: TelemetryPoint, prepared: Prepared | undefined, done: Done, counter: EndCounter, label?: string) {
    super(prepared, done, counter, label);
    this.ts = point.ts;
    this.values = point.values;
  }

  get uplink(): Uplink {
    return pointUplink(this.device, this.ts, this.values);
  }
}

/** The uplink of one telemetry point, made anew for whoever asks (PointEntry, PointPart). */
function pointUplink(device: string, ts: number | undefined, values: Values): Uplink {
  return { kind: "telemetry", device, points: [ts === undefined ? { values } : { ts, values }] };
}

/** A msg of several uplinks (a multi-device payload): done when all are acknowledged, or at the first failure. */
export class MsgGroup {
  private done: Done | undefined;

  constructor(private waiting: number, done: Done, private readonly counter: EndCounter, private readonly label?: string) {
    this.done = done;
  }

  part(): void {
    if (--this.waiting > 0 || !this.done) return;
    const done = this.done;
    this.done = undefined;
    done();
  }

  fail(err: Error): void {
    const done = this.done;
    if (!done) return;
    this.done = undefined;
    this.counter.ended(err);
    fail(done, err, this.label);
  }
}

/** One uplink of a `MsgGroup`. */
export class PartEntry implements Entry {
  strikes: number | undefined = undefined;
  at: number | undefined = undefined;

  constructor(readonly uplink: Uplink, public prepared: Prepared | undefined, private readonly group: MsgGroup) {}

  resolve(): void {
    this.group.part();
  }

  reject(err: Error): void {
    this.group.fail(err);
  }
}

/** One uplink of a `MsgGroup` of one telemetry point (a multi-device payload): held as `PointEntry` holds its point. */
export class PointPart implements Entry {
  strikes: number | undefined = undefined;
  at: number | undefined = undefined;
  private readonly ts: number | undefined;
  private readonly values: Values;

  constructor(readonly device: string, point: TelemetryPoint, public prepared: Prepared | undefined, private readonly group: MsgGroup) {
    this.ts = point.ts;
    this.values = point.values;
  }

  get uplink(): Uplink {
    return pointUplink(this.device, this.ts, this.values);
  }

  resolve(): void {
    this.group.part();
  }

  reject(err: Error): void {
    this.group.fail(err);
  }
}
