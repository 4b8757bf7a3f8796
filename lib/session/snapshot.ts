// What the editor's "IoT gateway" sidebar shows of one session, read as one plain-JSON snapshot:
// state and since when, reconnects, devices, what waits, rates, the rate budget, open RPCs.
// Everything here is read from what the session keeps anyway, except each device's last uplink
// and last refused msg: those are seen only while someone watches (`watch()`), as the session's
// watcher for that time, so a gateway nobody looks at pays one check per msg.
import type { Uplink, SessionState } from "../records";
import type { BudgetFill } from "../outbox/rate-budget";
import type { OutboxStats } from "../outbox/stats";
import type { GatewaySession } from "./session";

/** Devices listed at most in a snapshot (the most recently active first); `devices.total` counts all. */
export const DEVICES_SHOWN = 50;
/** Devices whose activity is remembered at most while watched; the least recent is forgotten first. */
const MAX_ACTIVITY = 10000;
/** Rates are taken over this span of samples (a read every half second would be too noisy alone). */
const RATE_SPAN_MS = 5000;

export interface DeviceView {
  name: string;
  profile?: string;
  /** Announced by the session (held in its registry: announced again after every reconnect). */
  announced: boolean;
  /** ms epoch of its last msg the flow gave the session (seen while watched). */
  lastUplinkAt?: number;
  lastError?: { at: number; message: string };
}

export interface Rates {
  /** Msgs the flow gave the session, per second. */
  msgsIn: number;
  /** Data points in them, per second. */
  pointsIn: number;
  /**
   * Msgs that left the outbox, per second: those that came in, less the growth of what waits and
   * the msgs lost or refused (a msg of several devices' uplinks counts as several here).
   */
  msgsOut: number;
  /** Publishes the server acknowledged, per second (a publish carries a batch of msgs). */
  publishesOut: number;
  bytesOut: number;
}

export interface SessionSnapshot {
  /** ms epoch at the runtime when it was taken: ages are counted from here. */
  now: number;
  state: SessionState;
  /** ms epoch the session was last connected or lost (connected since, down since). */
  since: number;
  reconnects: number;
  devices: { total: number; shown: DeviceView[] };
  waiting?: Omit<OutboxStats, "disk">;
  rates: Rates;
  budget: BudgetFill[];
  rpcs: { open: number; oldest?: { device?: string; method: string; id: number; at: number } };
}

interface Activity {
  at?: number;
  /** Recency: the order msgs came in (ms times tie). */
  seq: number;
  error?: { at: number; message: string };
}

interface Sample {
  at: number;
  /** msgs in, less the ones waiting, dropped, refused or invalid */
  msgsOut: number;
  msgsIn: number;
  pointsIn: number;
  publishesOut: number;
  bytesOut: number;
}

export class SessionView {
  private since = Date.now();
  private readonly activity = new Map<string, Activity>();
  private samples: Sample[] = [];
  private watching = false;
  private seq = 0;
  /** The time a msg is stamped with: taken at each read (twice a second), not per msg. */
  private clock = Date.now();
  private readonly onState = (state: SessionState): void => {
    // down is down: another attempt (connecting, refused again) is not a new period
    const up = state.state === "connected";
    if (up !== this.up) this.since = Date.now();
    this.up = up;
  };
  private up: boolean;

  constructor(readonly session: GatewaySession, private readonly waiting: () => OutboxStats | undefined) {
    this.up = session.state.state === "connected";
    session.on("state", this.onState);
  }

  /**
   * Starts seeing each msg's devices, and the msgs refused at once (invalid, or the outbox full),
   * as the session's watcher. No closure per msg: a msg that fails later (the server refused it)
   * shows as its node's error, not its device's.
   */
  watch(): void {
    if (this.watching) return;
    this.watching = true;
    this.clock = Date.now();
    const session = this.session;
    let current: readonly Uplink[] | undefined;
    session.watcher = {
      submitting: (given) => {
        for (const u of given) this.seen(u);
        current = given;
      },
      ended: (err) => {
        // with drop-oldest, a full outbox fails another (older) msg than the one being submitted
        const mine = current && ((err as { code?: string }).code !== "full" || session.outbox.options.overflow === "reject");
        if (mine) for (const u of current as readonly Uplink[]) this.failed(u, err.message);
      },
      submitted: () => {
        current = undefined;
      },
    };
  }

  /** Nobody watches: the session's msg path does nothing for the view, and what was seen is forgotten (it would grow stale). */
  unwatch(): void {
    if (!this.watching) return;
    this.watching = false;
    this.session.watcher = undefined;
    this.activity.clear();
    this.samples = [];
  }

  close(): void {
    this.unwatch();
    this.session.off("state", this.onState);
  }

  private entry(device: string): Activity {
    let a = this.activity.get(device);
    if (!a) {
      if (this.activity.size >= MAX_ACTIVITY) this.forgetOldest();
      a = { seq: 0 };
      this.activity.set(device, a);
    }
    a.seq = ++this.seq;
    return a;
  }

  /** The least recently active tenth goes: a scan now and then instead of an ordered map per msg. */
  private forgetOldest(): void {
    const cut = [...this.activity.values()].map((a) => a.seq).sort((x, y) => x - y)[Math.floor(MAX_ACTIVITY / 10)];
    for (const [name, a] of this.activity) if (a.seq <= cut) this.activity.delete(name);
  }

  private seen(u: Uplink): void {
    if ("device" in u && u.kind !== "disconnect") this.entry(this.session.registry.current(u.device)).at = this.clock;
  }

  private failed(u: Uplink, message: string): void {
    if ("device" in u) this.entry(this.session.registry.current(u.device)).error = { at: Date.now(), message };
  }

  read(now = Date.now()): SessionSnapshot {
    this.clock = now;
    const s = this.session;
    const oldest = s.router.rpcs.oldest();
    const w = this.waiting();
    let waiting: SessionSnapshot["waiting"];
    if (w) {
      const { disk: _disk, ...rest } = w;
      waiting = rest;
    }
    return {
      now,
      state: s.state,
      since: this.since,
      reconnects: s.stats.counters.reconnects,
      devices: this.devices(),
      waiting,
      rates: this.rates(now),
      budget: s.outbox.budget.fill(),
      rpcs: { open: s.router.rpcs.size, oldest: oldest && { device: oldest.ctx.device, method: oldest.ctx.method, id: oldest.ctx.id, at: oldest.at } },
    };
  }

  /** The most recently active first, then the others as announced. */
  private devices(): SessionSnapshot["devices"] {
    const registry = this.session.registry;
    const shown: DeviceView[] = [];
    const recent = [...this.activity].sort((x, y) => y[1].seq - x[1].seq);
    for (const [name, a] of recent) {
      if (shown.length >= DEVICES_SHOWN) break;
      const d = registry.get(name);
      const v: DeviceView = { name, profile: d?.profile, announced: d !== undefined, lastUplinkAt: a.at };
      if (a.error) v.lastError = a.error;
      shown.push(v);
    }
    let total = recent.length;
    for (const d of registry.all()) {
      if (this.activity.has(d.name)) continue;
      total++;
      if (shown.length < DEVICES_SHOWN) shown.push({ name: d.name, profile: d.profile, announced: true });
    }
    return { total, shown };
  }

  /** Per second over the last few seconds of reads (0 until two reads exist). */
  private rates(now: number): Rates {
    const c = this.session.stats.counters;
    const gone = c.droppedMsgs + c.refusedMsgs + c.invalidMsgs + (this.waiting()?.waiting ?? 0);
    const sample: Sample = { at: now, msgsOut: c.msgsIn - gone, msgsIn: c.msgsIn, pointsIn: c.pointsIn, publishesOut: c.publishesOut, bytesOut: c.bytesOut };
    this.samples.push(sample);
    while (this.samples.length > 2 && now - this.samples[1].at >= RATE_SPAN_MS) this.samples.shift();
    const first = this.samples[0];
    const s = (now - first.at) / 1000;
    const per = (k: keyof Omit<Sample, "at">): number => (s > 0 ? Math.max(0, (sample[k] - first[k]) / s) : 0);
    return { msgsIn: per("msgsIn"), pointsIn: per("pointsIn"), msgsOut: per("msgsOut"), publishesOut: per("publishesOut"), bytesOut: per("bytesOut") };
  }
}
