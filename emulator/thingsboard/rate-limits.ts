// The server's transport rate limits, as ThingsBoard applies them (read from its source, 4.x):
// - TbRateLimits: one bucket4j bucket per limit string, one bandwidth per "capacity:seconds" pair,
//   each starting full and refilled greedily (capacity per seconds, continuously); a consumption
//   succeeds only when every bandwidth has the tokens, and then takes them from all.
// - DefaultTransportRateLimitService.checkEntityRateLimit: a message that carries data points
//   takes 1 from telemetryMessages and then (only if that succeeded) n from telemetryDataPoints;
//   any other message takes 1 from messages.
// - DefaultTransportService counts per device message: a gateway telemetry publish for 3 devices
//   is 3 telemetry messages; its data points are the key-value pairs of each device's entries.
//   Attributes count as telemetry too (PostAttributeMsg: data points = its keys).
// - The gateway's sub-device traffic goes to one bucket per gateway (GATEWAY_LIMITS, announced as
//   `gatewayRateLimits`), its own v1/devices/me traffic to another (GATEWAY_DEVICE_LIMITS,
//   announced as `rateLimits`). The buckets belong to the gateway device, not to a connection:
//   a reconnect does not refill them.
import { RateLimits } from './types';

class Bandwidth {
  private tokens: number;
  private last: number;
  private readonly perMs: number;

  constructor(readonly capacity: number, seconds: number, now: number) {
    this.tokens = capacity;
    this.last = now;
    this.perMs = capacity / (seconds * 1000);
  }

  available(now: number): number {
    this.tokens = Math.min(this.capacity, this.tokens + (now - this.last) * this.perMs);
    this.last = now;
    return this.tokens;
  }

  take(n: number): void {
    this.tokens -= n;
  }
}

/** One limit string ("10:1,300:60"); an empty or unparsable string limits nothing. */
export class Bucket {
  private readonly bandwidths: Bandwidth[] = [];

  constructor(readonly config: string, now = Date.now()) {
    for (const pair of config.split(',')) {
      const [c, s] = pair.split(':').map((x) => Number(x.trim()));
      if (Number.isInteger(c) && Number.isInteger(s) && c > 0 && s > 0) this.bandwidths.push(new Bandwidth(c, s, now));
    }
  }

  tryConsume(n: number, now = Date.now()): boolean {
    for (const b of this.bandwidths) if (b.available(now) < n) return false;
    for (const b of this.bandwidths) b.take(n);
    return true;
  }
}

export type LimitedCounter = keyof RateLimits;

/** The three buckets of one entity (a gateway's sub-device traffic, or the gateway itself). */
export class EntityLimits {
  private buckets: Record<LimitedCounter, Bucket>;

  constructor(limits: RateLimits) {
    this.buckets = { messages: new Bucket(limits.messages), telemetryMessages: new Bucket(limits.telemetryMessages), telemetryDataPoints: new Bucket(limits.telemetryDataPoints) };
  }

  /** Keeps the state of every bucket whose configuration did not change (the server merges the same way). */
  update(limits: RateLimits): void {
    for (const k of Object.keys(this.buckets) as LimitedCounter[]) {
      if (this.buckets[k].config !== limits[k]) this.buckets[k] = new Bucket(limits[k]);
    }
  }

  /** The counter that refused the message, or undefined when it may pass. */
  check(dataPoints: number): LimitedCounter | undefined {
    if (dataPoints > 0) {
      if (!this.buckets.telemetryMessages.tryConsume(1)) return 'telemetryMessages';
      if (!this.buckets.telemetryDataPoints.tryConsume(dataPoints)) return 'telemetryDataPoints';
      return undefined;
    }
    return this.buckets.messages.tryConsume(1) ? undefined : 'messages';
  }
}
