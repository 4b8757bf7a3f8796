// The uplink path: accepted uplinks wait here (in order) until the server acknowledged them.
// While connected they leave in batches: the dialect merges them into as few publishes as the
// protocol allows, under the max payload, with a bounded number awaiting their PUBACK. When
// the connection drops, whatever was not acknowledged goes back to the head of the queue, in
// its order, and leaves again after the next connect. Delivery is at least once.
import { EventEmitter } from "events";
import type { Dialect } from "../dialect/types";
import type { Uplink } from "../records";
import { MemoryStore } from "./store/memory";
import type { Entry, OutboxOptions, UplinkStore } from "./types";

export type OutboxErrorCode = "invalid" | "full" | "refused" | "closed";

export class OutboxError extends Error {
  constructor(message: string, readonly code: OutboxErrorCode) {
    super(message);
    this.name = "OutboxError";
  }
}

/** A publish the server answered with a failure reason (MQTT 5 PUBACK ≥ 0x80). */
export class PublishRefused extends Error {
  constructor(message: string, readonly reasonCode: number) {
    super(message);
    this.name = "PublishRefused";
  }
}

/** What the outbox needs of a connection: a QoS 1 publish that settles on the PUBACK. */
export interface Transport {
  publish(topic: string, payload: Buffer): Promise<void>;
}

interface Batch {
  entries: Entry[];
  /** Per entry: publishes still unacknowledged; 0 = delivered, -1 = refused. */
  pending: number[];
  open: number;
}

export const DEFAULT_OUTBOX: OutboxOptions = {
  maxQueued: 100000,
  overflow: "reject",
  batchWindowMs: 20,
  maxBatch: 5000,
  maxInflight: 16,
};

export class Outbox extends EventEmitter {
  /** The server's limit on a publish's remaining length (topic, packet id, properties, payload). */
  maxPayload: number;
  /** Bytes of MQTT 5 properties in each publish (the property length alone: 1); 0 on 3.1.1. */
  propertiesBytes = 0;
  private readonly opts: OutboxOptions;
  private transport: Transport | undefined;
  private readonly inflight: Batch[] = [];
  private publishing = 0;
  private generation = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Entries in the store that count against `maxQueued`. */
  private counted = 0;

  constructor(private readonly dialect: Dialect, opts: Partial<OutboxOptions> = {}, private readonly store: UplinkStore = new MemoryStore()) {
    super();
    this.opts = { ...DEFAULT_OUTBOX, ...opts };
    this.maxPayload = dialect.defaultMaxPayload;
    // A durable store opens asynchronously (its entries appear then) and drops by its own limits.
    store.bind?.({
      added: (n) => {
        this.counted += n;
        this.schedule();
      },
      removed: (n) => {
        this.counted -= n;
      },
    });
  }

  /** Uplinks accepted and not yet acknowledged. */
  get size(): number {
    return this.store.size + this.inflight.reduce((n, b) => n + b.pending.filter((p) => p > 0).length, 0);
  }

  /** Uplinks waiting to be sent that count against the bound. */
  get queued(): number {
    return this.counted;
  }

  get options(): Readonly<OutboxOptions> {
    return this.opts;
  }

  /**
   * Accepts an uplink; the promise settles when the server acknowledged it, or with an
   * OutboxError when it is invalid, refused, does not fit, or the session closes. Unbounded
   * uplinks (the session's own announcements of devices) do not count against `maxQueued`.
   */
  send(uplink: Uplink, bounded = true): Promise<void> {
    const problem = this.dialect.validate(uplink);
    if (problem) return Promise.reject(new OutboxError(problem, "invalid"));
    return this.accept(uplink, bounded);
  }

  /** `send` for an uplink its caller has already validated (validation is the costly part). */
  accept(uplink: Uplink, bounded = true): Promise<void> {
    return new Promise<void>((resolve, reject) => this.enqueue(uplink, bounded, resolve, reject));
  }

  /**
   * The callback form of `accept`, for the hot path: exactly one of `resolve` / `reject` is
   * called, once (`reject` at once when the uplink is not accepted).
   */
  enqueue(uplink: Uplink, bounded: boolean, resolve: () => void, reject: (err: Error) => void): void {
    if (this.closed) return reject(new OutboxError("the gateway session is closed", "closed"));
    if (bounded && this.counted >= this.opts.maxQueued) {
      const waiting = this.counted;
      if (this.opts.overflow === "reject") {
        this.emit("full", waiting);
        return reject(new OutboxError(`outbox full: ${waiting} messages are waiting for the connection, this one was not accepted`, "full"));
      }
      const oldest = this.takeOldestCounted();
      oldest?.reject(new OutboxError(`outbox full: ${waiting} messages were waiting, the oldest was dropped for a newer one`, "full"));
      this.emit("full", waiting);
    }
    if (this.store.push({ uplink, resolve, reject, free: !bounded }) === false) return; // refused by the store (its cap), already rejected
    if (bounded) this.counted++;
    this.schedule();
  }

  /** Starts delivering over `transport`; `first` uplinks go before everything queued. */
  attach(transport: Transport, first: Uplink[] = []): void {
    this.store.unshift(first.map((uplink) => ({ uplink, resolve: noop, reject: noop, free: true })));
    this.transport = transport;
    this.flush();
  }

  /** The connection is gone: unacknowledged uplinks go back to the head of the queue. */
  detach(): void {
    this.transport = undefined;
    this.clearTimer();
    this.requeueInflight();
  }

  /**
   * Closes the outbox and hands over everything not yet acknowledged, in order, for a successor
   * to `adopt` (a redeployed gateway-config): accepted msgs survive a redeploy.
   */
  handOver(): Entry[] {
    this.detach();
    this.closed = true;
    this.counted = 0;
    return this.store.clear();
  }

  /** Takes over a predecessor's entries, ahead of anything queued since. */
  adopt(entries: Entry[]): void {
    for (const e of entries) if (!e.free) this.counted++;
    this.store.unshift(entries);
    this.schedule();
  }

  /** Rejects everything still waiting. */
  close(reason = "the gateway session is closed"): void {
    this.detach();
    this.closed = true;
    this.counted = 0;
    for (const e of this.store.clear()) e.reject(new OutboxError(reason, "closed"));
  }

  /** The oldest entry that counts against the bound (announcements are kept). */
  private takeOldestCounted(): Entry | undefined {
    const skipped: Entry[] = [];
    let e = this.store.dropOldest();
    while (e && e.free) {
      skipped.push(e);
      e = this.store.dropOldest();
    }
    this.store.unshift(skipped);
    if (e) this.counted--;
    return e;
  }

  private schedule(): void {
    if (!this.transport || this.timer || this.publishing >= this.opts.maxInflight) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, this.opts.batchWindowMs);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private flush(): void {
    this.clearTimer();
    while (this.transport && this.publishing < this.opts.maxInflight && this.store.size > 0) {
      const entries = this.store.take(this.opts.maxBatch);
      for (const e of entries) if (!e.free) this.counted--;
      this.publishBatch(this.transport, entries);
    }
  }

  private publishBatch(transport: Transport, entries: Entry[]): void {
    let encoded: ReturnType<Dialect["encode"]>;
    try {
      encoded = this.dialect.encode(
        entries.map((e) => e.uplink),
        this.maxPayload,
        this.propertiesBytes,
      );
    } catch (err) {
      // A dialect bug must cost these msgs (with an error each), never the process or the session.
      for (const e of entries) e.reject(new OutboxError(`could not encode: ${(err as Error).message}`, "invalid"));
      return;
    }
    const { publishes, refused } = encoded;
    const batch: Batch = { entries, pending: new Array<number>(entries.length).fill(0), open: publishes.length };
    for (const r of refused) {
      batch.pending[r.index] = -1;
      entries[r.index].reject(new OutboxError(r.reason, "invalid"));
    }
    for (const p of publishes) for (const i of p.carries) batch.pending[i]++;
    // Carried by no publish and not refused: the protocol has nothing to send for it (delivered).
    for (let i = 0; i < entries.length; i++) if (batch.pending[i] === 0) entries[i].resolve();
    if (publishes.length === 0) return;
    this.inflight.push(batch);
    const generation = this.generation;
    for (const p of publishes) {
      this.publishing++;
      transport.publish(p.topic, p.payload).then(
        () => this.settle(generation, batch, p.carries),
        (err: Error) => this.settle(generation, batch, p.carries, err),
      );
    }
  }

  private settle(generation: number, batch: Batch, carries: number[], err?: Error): void {
    if (generation !== this.generation) return; // already put back in the queue
    this.publishing--;
    batch.open--;
    if (err && !(err instanceof PublishRefused)) {
      // Not an answer from the server: the connection failed under this publish.
      this.requeueInflight();
      this.schedule();
      return;
    }
    for (const i of carries) {
      if (batch.pending[i] <= 0) continue;
      if (err) {
        batch.pending[i] = -1;
        batch.entries[i].reject(new OutboxError(`the server refused it: ${err.message}`, "refused"));
      } else if (--batch.pending[i] === 0) {
        batch.entries[i].resolve();
      }
    }
    if (batch.open === 0) this.inflight.splice(this.inflight.indexOf(batch), 1);
    if (this.store.size > 0) this.flush();
  }

  private requeueInflight(): void {
    this.generation++;
    this.publishing = 0;
    const back: Entry[] = [];
    for (const b of this.inflight) b.entries.forEach((e, i) => b.pending[i] > 0 && back.push(e));
    this.inflight.length = 0;
    for (const e of back) if (!e.free) this.counted++;
    this.store.unshift(back);
  }
}

function noop(): void {
  /* internal uplinks (re-announcements) have no sender waiting */
}
