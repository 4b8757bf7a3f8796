// The uplink path: accepted uplinks wait here (in order) until the server acknowledged them.
// Each is serialised when it is accepted (a value that cannot be sent fails its own msg there).
// While connected they leave in batches: the dialect merges them into as few publishes as the
// protocol allows, under the packet limit and what the rate limits let one publish carry; each
// publish waits for the rate budget, with a bounded number awaiting their PUBACK. When the
// connection drops, whatever was not acknowledged goes back to the head of the queue, in its
// order, and leaves again after the next connect; a batch the server keeps closing the
// connection on is split until the one msg that does it is found and ended (isolation.ts).
// Delivery is at least once.
import { EventEmitter } from "events";
import type { Dialect, Prepared } from "../dialect/types";
import type { Uplink } from "../records";
import { Batch, type Out } from "./batch";
import { OutboxError, PublishRefused, type Transport } from "./errors";
import { CLOSE_WINDOW_MS, Isolation } from "./isolation";
import { RateBudget, type RateLimits } from "./rate-budget";
import { MemoryStore } from "./store/memory";
import type { Entry, OutboxOptions, UplinkStore } from "./types";

export { OutboxError, PublishRefused, type OutboxErrorCode, type Transport } from "./errors";

/** PUBACK reason "quota exceeded": a rate limit, not the msg; the server closes, the msg goes again. */
const QUOTA_EXCEEDED = 0x97;

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
  /** What the server's rate limits still allow (unlimited until the server says). */
  readonly budget = new RateBudget();
  private readonly opts: OutboxOptions;
  private maxInflight: number;
  private transport: Transport | undefined;
  private readonly inflight: Batch[] = [];
  /** Publishes encoded and not yet on the wire, in order (waiting for the budget or the window). */
  private readonly ready: Array<{ batch: Batch; out: Out }> = [];
  /** Uplinks that go before the store's, even while it is held (announcements, the limits request). */
  private readonly ahead: Entry[] = [];
  /** While the server's limits are awaited: the announcements that wait for them (data waits too). */
  private held: Entry[] | undefined;
  private readonly isolation = new Isolation();
  private publishing = 0;
  private generation = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Entries in the store that count against `maxQueued`. */
  private counted = 0;

  constructor(private readonly dialect: Dialect, opts: Partial<OutboxOptions> = {}, private readonly store: UplinkStore = new MemoryStore()) {
    super();
    this.opts = { ...DEFAULT_OUTBOX, ...opts };
    this.maxInflight = this.opts.maxInflight;
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
    return this.store.size + this.ahead.length + this.inflight.reduce((n, b) => n + b.waitingCount, 0);
  }

  /** Uplinks waiting to be sent that count against the bound. */
  get queued(): number {
    return this.counted;
  }

  get options(): Readonly<OutboxOptions> {
    return this.opts;
  }

  /** Applies the server's limits: its rate limits, and the most publishes it lets await their PUBACK. */
  setLimits(limits: { rates?: RateLimits; maxInflight?: number }): void {
    if (limits.rates) this.budget.update(limits.rates);
    this.maxInflight = Math.max(1, Math.min(this.opts.maxInflight, limits.maxInflight ?? Infinity));
    this.pump();
  }

  /** Serialises an uplink, or returns why it cannot be sent. */
  prepare(uplink: Uplink): Prepared | OutboxError {
    try {
      return this.dialect.prepare(uplink);
    } catch (err) {
      return new OutboxError((err as Error).message, "invalid");
    }
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

  /** An uplink of the session's own that goes before everything waiting, even while the outbox is held. */
  sendAhead(uplink: Uplink): Promise<void> {
    const problem = this.dialect.validate(uplink);
    if (problem) return Promise.reject(new OutboxError(problem, "invalid"));
    const prepared = this.prepare(uplink);
    if (prepared instanceof OutboxError) return Promise.reject(prepared);
    return new Promise<void>((resolve, reject) => {
      if (this.closed) return reject(new OutboxError("the gateway session is closed", "closed"));
      this.ahead.push({ uplink, resolve, reject, free: true, prepared, transient: true });
      this.schedule();
    });
  }

  /**
   * The callback form of `accept`, for the hot path: exactly one of `resolve` / `reject` is
   * called, once (`reject` at once when the uplink is not accepted). `prepared` is the uplink
   * serialised by `prepare`; without it the uplink is serialised here.
   */
  enqueue(uplink: Uplink, bounded: boolean, resolve: () => void, reject: (err: Error) => void, prepared?: Prepared): void {
    if (this.closed) return reject(new OutboxError("the gateway session is closed", "closed"));
    if (!prepared) {
      const p = this.prepare(uplink);
      if (p instanceof OutboxError) return reject(p);
      prepared = p;
    }
    this.push({ uplink, resolve, reject, free: !bounded, prepared }, bounded);
  }

  /**
   * Queues an entry made by its sender (msg-entry.ts: no closure per msg), its uplink validated
   * and prepared; the entry is settled once, at once when it is not accepted.
   */
  push(entry: Entry, bounded: boolean): void {
    if (this.closed) return entry.reject(new OutboxError("the gateway session is closed", "closed"));
    if (bounded && this.counted >= this.opts.maxQueued) {
      const waiting = this.counted;
      if (this.opts.overflow === "reject") {
        this.emit("full", waiting);
        return entry.reject(new OutboxError(`outbox full: ${waiting} messages are waiting for the connection, this one was not accepted`, "full"));
      }
      const oldest = this.takeOldestCounted();
      oldest?.reject(new OutboxError(`outbox full: ${waiting} messages were waiting, the oldest was dropped for a newer one`, "full"));
      this.emit("full", waiting);
    }
    if (this.store.push(entry) === false) return; // refused by the store (its cap), already rejected
    if (bounded) this.counted++;
    this.schedule();
  }

  /**
   * Starts delivering over `transport`; `first` uplinks (the announcements) go before everything
   * queued. With `hold`, only `sendAhead`'s go until `release`: the server's limits come first,
   * its in-flight bound counts announcements too.
   */
  attach(transport: Transport, first: Uplink[] = [], hold = false): void {
    const announcements: Entry[] = [];
    for (const uplink of first) {
      const prepared = this.prepare(uplink);
      if (!(prepared instanceof OutboxError)) announcements.push({ uplink, resolve: noop, reject: noop, free: true, prepared, transient: true });
    }
    this.transport = transport;
    this.held = hold ? announcements : undefined;
    if (!hold) this.ahead.unshift(...announcements);
    this.pump();
  }

  /** Lets the announcements and the queue go after `attach(…, hold)`. */
  release(): void {
    if (!this.held) return;
    this.ahead.push(...this.held);
    this.held = undefined;
    this.pump();
  }

  /** The connection is gone: unacknowledged uplinks go back to the head of the queue. */
  detach(): void {
    this.transport = undefined;
    this.clearTimer();
    this.requeueInflight(true);
    this.held = undefined;
    for (const e of this.ahead.splice(0)) e.reject(new OutboxError("the connection was lost before it was sent", "closed"));
  }

  /**
   * Closes the outbox and hands over everything not yet acknowledged, in order, for a successor
   * to `adopt` (a redeployed gateway-config): accepted msgs survive a redeploy.
   */
  handOver(): Entry[] {
    this.transport = undefined;
    this.clearTimer();
    this.requeueInflight(false);
    this.closed = true;
    this.counted = 0;
    this.ahead.length = 0; // announcements and requests belong to this session
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
    this.transport = undefined;
    this.clearTimer();
    this.requeueInflight(false);
    this.closed = true;
    this.counted = 0;
    const waiting = [...this.ahead.splice(0), ...this.store.clear()];
    for (const e of waiting) e.reject(new OutboxError(reason, "closed"));
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

  /** New entries: give others the batch window to join them, unless publishes are already lined up. */
  private schedule(): void {
    if (!this.transport || this.ready.length > 0) return;
    if (this.store.size >= this.opts.maxBatch && this.publishing < this.maxInflight && !this.held) {
      // A whole batch waits already: no later entry can join it, waiting the window only holds them longer.
      return this.pump();
    }
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, this.opts.batchWindowMs);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Sends what the in-flight window and the rate budget allow now; wakes itself for the rest. */
  private pump(): void {
    this.clearTimer();
    const transport = this.transport;
    while (transport && this.transport === transport) {
      if (this.ready.length === 0 && !this.encodeNext()) return;
      if (this.ready.length === 0) continue; // the batch was refused whole: take the next
      if (this.publishing >= this.maxInflight) return;
      const { batch, out } = this.ready[0];
      const wait = this.budget.waitFor(out.publish.cost);
      if (wait === Infinity) {
        // Encoded under caps that the server's limits have since lowered: it can never pass.
        this.ready.shift();
        this.refuse(batch, out, "it is larger than the server's rate limits now allow in one message");
        continue;
      }
      if (wait > 0) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.pump();
        }, wait);
        return;
      }
      this.ready.shift();
      this.budget.take(out.publish.cost);
      this.publishOne(transport, batch, out);
    }
  }

  /** Takes and encodes the next batch into `ready`; false when there is nothing to take now. */
  private encodeNext(): boolean {
    let entries: Entry[];
    if (this.ahead.length > 0) {
      entries = this.ahead.splice(0, this.opts.maxBatch);
    } else {
      if (this.held || this.store.size === 0) return false;
      if (this.isolation.probing && this.publishing > 0) return false; // a probe goes alone
      entries = this.store.take(this.isolation.probe ?? this.opts.maxBatch);
      for (const e of entries) if (!e.free) this.counted--;
    }
    let encoded: ReturnType<Dialect["encode"]>;
    try {
      encoded = this.dialect.encode(
        entries.map((e) => e.uplink),
        this.maxPayload,
        this.propertiesBytes,
        { prepared: entries.map((e) => e.prepared), caps: this.budget.deviceCaps, ownCaps: this.budget.ownCaps },
      );
    } catch (err) {
      // A dialect bug must cost these msgs (with an error each), never the process or the session.
      for (const e of entries) e.reject(new OutboxError(`could not encode: ${(err as Error).message}`, "invalid"));
      return true;
    }
    const batch = new Batch(entries, encoded, this.delivered);
    // The publishes carry the bytes now: an entry in flight holds no serialised copy of its own
    // until its PUBACK (after a lost connection, encode prepares it again from its uplink).
    for (const e of entries) e.prepared = undefined;
    if (batch.done) return true;
    this.inflight.push(batch);
    for (const out of batch.outs) this.ready.push({ batch, out });
    return true;
  }

  /** An entry the server has all of: no longer a suspect, its sender hears it. */
  private readonly delivered = (e: Entry): void => {
    this.isolation.onAck(e);
    e.resolve();
  };

  private publishOne(transport: Transport, batch: Batch, out: Out): void {
    const generation = this.generation;
    this.publishing++;
    out.sentAt = Date.now();
    transport.publish(out.publish.topic, out.publish.payload).then(
      () => this.settle(generation, batch, out),
      (err: Error) => this.settle(generation, batch, out, err),
    );
  }

  private settle(generation: number, batch: Batch, out: Out, err?: Error): void {
    if (generation !== this.generation) return; // already put back in the queue
    this.publishing--;
    if (err && (!(err instanceof PublishRefused) || err.reasonCode === QUOTA_EXCEEDED)) {
      // Not an answer about this msg: the connection failed under it, or a rate limit was hit
      // (the server closes next). Everything unacknowledged goes again after the reconnect.
      this.requeueInflight(true);
      this.schedule();
      return;
    }
    batch.settle(out, this.delivered, err);
    if (batch.done) this.inflight.splice(this.inflight.indexOf(batch), 1);
    this.pump();
  }

  /** Ends the entries of a publish that can never be sent. */
  private refuse(batch: Batch, out: Out, reason: string): void {
    batch.refuse(out, reason);
    if (batch.done) this.inflight.splice(this.inflight.indexOf(batch), 1);
  }

  /**
   * Puts every unacknowledged entry back at the head of the queue, in order. `lost`: the
   * connection closed under them; entries published shortly before take a strike, and the one
   * found to make the server close even alone is ended (isolation.ts).
   */
  private requeueInflight(lost: boolean): void {
    this.generation++;
    this.publishing = 0;
    this.ready.length = 0;
    const since = Date.now() - CLOSE_WINDOW_MS;
    const back: Entry[] = [];
    const unacked = new Set<Entry>();
    for (const b of this.inflight) {
      b.unackedSince(since, unacked);
      b.waiting(back);
    }
    this.inflight.length = 0;
    // Announcements and the session's own requests are made anew on the next connect.
    const culprit = lost ? this.isolation.onClose([...unacked].filter((e) => !e.transient)) : undefined;
    const kept: Entry[] = [];
    const gone: Entry[] = [];
    for (const e of back) if (e !== culprit) (e.transient ? gone : kept).push(e);
    for (const e of kept) if (!e.free) this.counted++;
    this.store.unshift(kept);
    for (const e of gone) e.reject(new OutboxError("the connection was lost before the server answered", "closed"));
    culprit?.reject(
      new OutboxError(
        `the server closed the connection each time this msg was sent (${culprit.strikes} times, the last time alone): it was dropped so that the rest can go on`,
        "refused",
      ),
    );
  }
}

function noop(): void {
  /* internal uplinks (re-announcements) have no sender waiting */
}
