// The gateway's statistics as telemetry of the gateway device itself, every period: what came in
// from the flow, what went out, how fast the server acknowledged it, what waits and what was lost.
// Counts are per report (since the previous one that was sent); waiting figures are the moment's.
// While the session is down no report is made (the next one covers the whole span): statistics
// must not pile up in the outbox during an outage, nor count against its bound.
import type { OutboxStats } from "../outbox/stats";
import type { Uplink, Values } from "../records";
import type { GatewaySession } from "./session";
import { COUNTER_NAMES, quantile, zeroCounters, type GatewayStats, type StatsCounters } from "./stats";
import { lineDeltas } from "./stats-lines";

export interface StatsSource {
  readonly stats: GatewayStats;
  readonly connected: boolean;
  /** ms publishes waited for the rate budget so far. */
  rateWaitedMs(): number;
  /** Devices announced in this session. */
  deviceCount(): number;
  /** Queues the report (the session's own uplink: not counted as a msg of the flow). */
  sendOwn(uplink: Uplink): Promise<void>;
  warn(message: string): void;
  /** More cumulative counters, such as the Modbus lines' (stats-lines.ts); reports carry their change. */
  lines?(): Record<string, number>;
}

/** What a report reads of a session; `lines`: the Modbus lines' counters (stats-lines.ts). */
export function sessionStatsSource(session: GatewaySession, lines?: () => Record<string, number>): StatsSource {
  return {
    lines,
    stats: session.stats,
    get connected() {
      return session.connected;
    },
    rateWaitedMs: () => session.outbox.budget.waitedMs(),
    deviceCount: () => [...session.registry.all()].length,
    sendOwn: (u) => session.outbox.send(u, false),
    warn: (m) => void session.emit("warning", m),
  };
}

/** The statistics period bounds of gateway-config, in seconds (0 = off). */
export const STATS_PERIOD = { min: 10, max: 3600, default: 60 } as const;

/** A configured period in seconds → ms, or 0 (off). Out-of-range values are clamped. */
export function statsPeriodMs(seconds: number): number {
  if (!Number.isFinite(seconds) || seconds <= 0) return 0;
  return Math.round(Math.min(STATS_PERIOD.max, Math.max(STATS_PERIOD.min, seconds)) * 1000);
}

/** The moment's figures of what waits, as telemetry keys. */
function waitingValues(w: OutboxStats | undefined): Values {
  const v: Values = { waitingMsgs: w?.waiting ?? 0, oldestWaitingAgeMs: w?.oldestAgeMs === undefined ? 0 : Math.round(w.oldestAgeMs) };
  if (w?.bytes !== undefined) v.waitingBytes = w.bytes;
  return v;
}

function latencyValues(sorted: readonly number[]): Values {
  if (sorted.length === 0) return {};
  const r = (x: number | undefined): number => Math.round((x ?? 0) * 10) / 10;
  return { pubackP50Ms: r(quantile(sorted, 0.5)), pubackP99Ms: r(quantile(sorted, 0.99)) };
}

/** Every figure since the session started (the gateway_stats RPC and the sidebar). */
export function totals(src: StatsSource, waiting: OutboxStats | undefined): Values {
  return {
    ...src.stats.counters,
    rateLimitWaitMs: Math.round(src.rateWaitedMs()),
    ...latencyValues(src.stats.latencies(false)),
    ...waitingValues(waiting),
    devices: src.deviceCount(),
    ...src.lines?.(),
    connected: src.connected,
    uptimeS: Math.round((Date.now() - src.stats.startedAt) / 1000),
  };
}

export class StatsReporter {
  private timer: NodeJS.Timeout | undefined;
  private last: StatsCounters = zeroCounters();
  private lastWaited = 0;
  private lastLines: Record<string, number> = {};
  private lastAt = Date.now();

  constructor(
    private readonly src: StatsSource,
    private readonly periodMs: number,
    private readonly waiting: () => OutboxStats | undefined,
  ) {}

  start(): this {
    if (this.periodMs > 0 && !this.timer) {
      this.timer = setInterval(() => this.report(), this.periodMs);
      this.timer.unref?.();
    }
    return this;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The figures since the previous report, and the moment's; resets the period. */
  take(now = Date.now()): Values {
    const c = { ...this.src.stats.counters };
    const waited = this.src.rateWaitedMs();
    const v: Values = {};
    for (const k of COUNTER_NAMES) v[k] = c[k] - this.last[k];
    v.rateLimitWaitMs = Math.round(waited - this.lastWaited);
    Object.assign(v, latencyValues(this.src.stats.latencies(true)), waitingValues(this.waiting()));
    v.devices = this.src.deviceCount();
    const lines = this.src.lines?.() ?? {};
    Object.assign(v, lineDeltas(lines, this.lastLines));
    this.lastLines = lines;
    v.periodS = Math.round((now - this.lastAt) / 1000);
    this.last = c;
    this.lastWaited = waited;
    this.lastAt = now;
    return v;
  }

  /** One report now, when connected. */
  report(): void {
    if (!this.src.connected) return;
    const ts = Date.now();
    const values = this.take(ts);
    this.src.sendOwn({ kind: "gatewayTelemetry", points: [{ ts, values }] }).catch((err: Error) => this.src.warn(`the gateway's statistics were not sent: ${err.message}`));
  }
}
