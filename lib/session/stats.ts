// The gateway's own health figures, counted where the work happens and read as one snapshot: by
// the periodic statistics telemetry, the gateway_stats service RPC and the sidebar. Counters only
// grow (a reader that wants a period subtracts the previous snapshot); PUBACK latencies are kept
// as a bounded sample that the periodic report drains, so memory stays flat at any rate.
import type { Transport } from "../outbox/outbox";
import type { Prepared } from "../dialect/types";
import type { Uplink } from "../records";

/** Latency samples kept at most between two reads; beyond it new ones replace random old ones. */
const MAX_SAMPLES = 4096;

export interface StatsCounters {
  /** Msgs the flow gave the session (each uplink of a msg counts once). */
  msgsIn: number;
  /** Data points in them: telemetry key-values and attribute keys. */
  pointsIn: number;
  /** Publishes that reached their PUBACK (or the platform's own ack). */
  publishesOut: number;
  /** Payload bytes of those publishes. */
  bytesOut: number;
  /** Connections after the first one of this session. */
  reconnects: number;
  /** Msgs lost to the outbox bound: not accepted at the cap, or dropped for newer ones. */
  droppedMsgs: number;
  /** Msgs the server refused, or that the gateway found it can never send. */
  refusedMsgs: number;
  /** Msgs refused before they were queued (a value that cannot be sent). */
  invalidMsgs: number;
}

export type CounterName = keyof StatsCounters;
export const COUNTER_NAMES: readonly CounterName[] = ["msgsIn", "pointsIn", "publishesOut", "bytesOut", "reconnects", "droppedMsgs", "refusedMsgs", "invalidMsgs"];

export function zeroCounters(): StatsCounters {
  return { msgsIn: 0, pointsIn: 0, publishesOut: 0, bytesOut: 0, reconnects: 0, droppedMsgs: 0, refusedMsgs: 0, invalidMsgs: 0 };
}

/** The value at quantile `q` (0..1) of sorted samples, nearest rank; undefined when there are none. */
export function quantile(sorted: readonly number[], q: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1];
}

function pointsOf(u: Uplink): number {
  switch (u.kind) {
    case "telemetry": {
      let n = 0;
      for (const p of u.points) n += p && typeof p.values === "object" && p.values !== null ? Object.keys(p.values).length : 0;
      return n;
    }
    case "attributes":
      return u.values && typeof u.values === "object" ? Object.keys(u.values).length : 0;
    default:
      return 0;
  }
}

export class GatewayStats {
  readonly counters: StatsCounters = zeroCounters();
  readonly startedAt = Date.now();
  private samples: number[] = [];
  private connects = 0;

  /** The flow handed over these uplinks (one msg). */
  received(uplinks: readonly Uplink[]): void {
    this.counters.msgsIn++;
    for (const u of uplinks) this.counters.pointsIn += pointsOf(u);
  }

  /**
   * One uplink of an accepted msg (`more`: not its first), its points counted from its
   * serialised form where the dialect counted them there: no second walk of the values.
   */
  accepted(u: Uplink, p: Prepared, more = false): void {
    if (!more) this.counters.msgsIn++;
    if (u.kind !== "telemetry" && u.kind !== "attributes") return;
    if (p.total !== undefined) {
      this.counters.pointsIn += p.total;
      return;
    }
    const points = p.points;
    if (!points) {
      this.counters.pointsIn += pointsOf(u);
      return;
    }
    for (let i = 0; i < points.length; i++) this.counters.pointsIn += points[i];
  }

  /** How a msg ended: the outbox's error code tells why it was not delivered. */
  ended(err: Error | undefined): void {
    if (!err) return;
    const code = (err as { code?: string }).code;
    if (code === "full") this.counters.droppedMsgs++;
    else if (code === "refused") this.counters.refusedMsgs++;
    else if (code === "invalid") this.counters.invalidMsgs++;
  }

  connected(): void {
    if (this.connects++ > 0) this.counters.reconnects++;
  }

  /** The transport that counts each acknowledged publish, its bytes, and how long its ack took. */
  wrap(transport: Transport): Transport {
    return {
      publish: (topic, payload) => {
        const sentAt = performance.now();
        return transport.publish(topic, payload).then(() => {
          this.counters.publishesOut++;
          this.counters.bytesOut += payload.length;
          this.sample(performance.now() - sentAt);
        });
      },
    };
  }

  /** PUBACK latencies (ms) since the last drain, sorted. `drain`: start a new sample. */
  latencies(drain: boolean): number[] {
    const s = drain ? this.samples : [...this.samples];
    if (drain) this.samples = [];
    return s.sort((a, b) => a - b);
  }

  private sample(ms: number): void {
    if (this.samples.length < MAX_SAMPLES) this.samples.push(ms);
    else this.samples[Math.floor(Math.random() * MAX_SAMPLES)] = ms;
  }
}
