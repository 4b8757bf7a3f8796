// The client side of the server's rate limits: what the gateway may publish, and when. The server
// refuses a publish (and closes the session) when any of its buckets lacks the tokens; so the
// gateway keeps its own buckets at a share of each capacity:seconds pair (80 %, as the Python SDK
// does), all pairs at once, and holds a publish until every bucket it would draw on has the tokens.
//
// Each client bucket starts EMPTY and refills at its share of the server's rate: the server's
// buckets belong to the gateway device and do not refill on a reconnect or a restart, so a full
// start after a burst just before the drop could take more than the server has left. Started
// empty, whatever the gateway sends in any interval stays within share × (capacity + rate × time),
// which the server's bucket always allows.
import { RATE_COUNTERS, type PublishCaps, type PublishCost, type RateCounter, type RateLimit } from "../records";

/** The share of each server limit the gateway uses (the Python SDK's 80 %). */
export const RATE_SHARE = 0.8;

class Band {
  readonly capacity: number;
  private readonly perMs: number;
  private tokens = 0;
  private last: number;

  constructor(readonly limit: RateLimit, now: number) {
    this.capacity = Math.max(1, Math.floor(limit.capacity * RATE_SHARE));
    this.perMs = this.capacity / (limit.seconds * 1000);
    this.last = now;
  }

  refill(now: number): number {
    if (now > this.last) this.tokens = Math.min(this.capacity, this.tokens + (now - this.last) * this.perMs);
    this.last = now;
    return this.tokens;
  }

  /** ms until `n` tokens are there (0: now). */
  waitFor(n: number, now: number): number {
    const have = this.refill(now);
    return have >= n ? 0 : Math.ceil((n - have) / this.perMs);
  }

  take(n: number): void {
    this.tokens -= n;
  }

  /** The tokens there at `now`, refilled but not stored: reading must not change the budget. */
  peek(now: number): number {
    return now > this.last ? Math.min(this.capacity, this.tokens + (now - this.last) * this.perMs) : this.tokens;
  }
}

/** One counter's bands: every capacity:seconds pair of its limit string. */
class Bucket {
  constructor(readonly key: string, readonly bands: Band[]) {}

  get capacity(): number {
    return this.bands.reduce((m, b) => Math.min(m, b.capacity), Infinity);
  }

  waitFor(n: number, now: number): number {
    let ms = 0;
    for (const b of this.bands) ms = Math.max(ms, b.waitFor(n, now));
    return ms;
  }

  take(n: number): void {
    for (const b of this.bands) b.take(n);
  }
}

function keyOf(limits: readonly RateLimit[]): string {
  return limits.map((l) => `${l.capacity}:${l.seconds}`).join(",");
}

/** The buckets of one entity: the gateway's devices, or the gateway itself. */
class EntityBudget {
  private readonly buckets = new Map<RateCounter, Bucket>();

  /** Keeps the state of every bucket whose limit did not change (a reconnect must not refill it). */
  update(limits: Partial<Record<string, readonly RateLimit[]>>, now: number): void {
    for (const c of RATE_COUNTERS) {
      const l = limits[c] ?? [];
      const key = keyOf(l);
      if (key === "") {
        this.buckets.delete(c);
        continue;
      }
      if (this.buckets.get(c)?.key === key) continue;
      this.buckets.set(c, new Bucket(key, l.map((x) => new Band(x, now))));
    }
  }

  caps(): PublishCaps {
    return {
      messages: this.buckets.get("messages")?.capacity ?? Infinity,
      telemetryMessages: this.buckets.get("telemetryMessages")?.capacity ?? Infinity,
      telemetryDataPoints: this.buckets.get("telemetryDataPoints")?.capacity ?? Infinity,
    };
  }

  /** Every band, by counter (read only: the sidebar's view of the budget). */
  fill(now: number): Array<Omit<BudgetFill, "entity">> {
    const out: Array<Omit<BudgetFill, "entity">> = [];
    for (const [counter, bucket] of this.buckets) for (const b of bucket.bands) out.push({ counter, capacity: b.capacity, seconds: b.limit.seconds, tokens: b.peek(now) });
    return out;
  }

  draws(cost: PublishCost): Array<[Bucket | undefined, number]> {
    return [
      [this.buckets.get("messages"), cost.messages],
      [this.buckets.get("telemetryMessages"), cost.telemetryMessages],
      [this.buckets.get("telemetryDataPoints"), cost.dataPoints],
    ];
  }
}

export interface RateLimits {
  /** The gateway's own traffic (ThingsBoard's `rateLimits`). */
  own: Partial<Record<string, readonly RateLimit[]>>;
  /** Its devices' traffic, one bucket for all of them (ThingsBoard's `gatewayRateLimits`). */
  devices: Partial<Record<string, readonly RateLimit[]>>;
}

/** One band of the budget as it stands: `tokens` of `capacity` (the gateway's share) are there to draw. */
export interface BudgetFill {
  entity: "own" | "devices";
  counter: RateCounter;
  capacity: number;
  seconds: number;
  tokens: number;
}

export class RateBudget {
  private readonly own = new EntityBudget();
  private readonly devices = new EntityBudget();
  /** Tokens drawn so far, per counter (for the stats: budget in use). */
  readonly drawn: Record<RateCounter, number> = { messages: 0, telemetryMessages: 0, telemetryDataPoints: 0 };
  /** Time publishes were held for the budget (the stats): closed waits, and the one open now. */
  private waited = 0;
  private blockedAt: number | undefined;
  /** The latest end of the open wait the budget foretold: an outage in the middle does not count as waiting. */
  private blockedUntil = 0;

  constructor(private readonly clock: () => number = Date.now) {}

  update(limits: RateLimits): void {
    const now = this.clock();
    this.own.update(limits.own, now);
    this.devices.update(limits.devices, now);
  }

  /** The most a single publish of the devices' traffic may draw of each counter. */
  get deviceCaps(): PublishCaps {
    return this.devices.caps();
  }

  get ownCaps(): PublishCaps {
    return this.own.caps();
  }

  /** Each band's fill now, read only (the editor's sidebar): none before the server told its limits. */
  fill(): BudgetFill[] {
    const now = this.clock();
    return [...this.own.fill(now).map((f) => ({ entity: "own" as const, ...f })), ...this.devices.fill(now).map((f) => ({ entity: "devices" as const, ...f }))];
  }

  /** ms until `cost` can be drawn (0: now). A cost over a bucket's capacity never can: Infinity. */
  waitFor(cost: PublishCost): number {
    const now = this.clock();
    let ms = 0;
    for (const [bucket, n] of (cost.own ? this.own : this.devices).draws(cost)) {
      if (!bucket || n <= 0) continue;
      if (n > bucket.capacity) return Infinity;
      ms = Math.max(ms, bucket.waitFor(n, now));
    }
    if (ms > 0) {
      this.blockedAt ??= now;
      this.blockedUntil = Math.max(this.blockedUntil, now + ms);
    }
    return ms;
  }

  /** ms publishes have waited for the budget so far. */
  waitedMs(): number {
    return this.blockedAt === undefined ? this.waited : this.waited + Math.max(0, Math.min(this.clock(), this.blockedUntil) - this.blockedAt);
  }

  /** Draws `cost` (call when `waitFor` said 0). */
  take(cost: PublishCost): void {
    if (this.blockedAt !== undefined) {
      this.waited += Math.max(0, Math.min(this.clock(), this.blockedUntil) - this.blockedAt);
      this.blockedAt = undefined;
    }
    for (const [bucket, n] of (cost.own ? this.own : this.devices).draws(cost)) if (bucket && n > 0) bucket.take(n);
    this.drawn.messages += cost.messages;
    this.drawn.telemetryMessages += cost.telemetryMessages;
    this.drawn.telemetryDataPoints += cost.dataPoints;
  }
}
