// Throughput of the four variants through one mosquitto, counted by one subscriber.
import mqtt from "mqtt";
import { now } from "./clock";
import { TELEMETRY_TOPIC, type PointCounter } from "./counter";
import { floorFlow, GATEWAY_CREDENTIALS, mqttOutFlow, telemetryOutFlow } from "./flows";
import type { Broker } from "./mosquitto";
import { NodeRedHost } from "./nodered";
import { gatewayPayload, preBatched, sourceMsg, type Workload } from "./workload";

/** f and m are references, not part of the issue: Node-RED routing alone; (a) with multi-point msgs. */
/** Points per msg of variant m: one point of each of the 100 devices. */
export const MULTI_POINTS = 100;

export type Variant = "f" | "a" | "b" | "c" | "d" | "m";

export const LABELS: Record<Variant, string> = {
  f: "floor: Node-RED alone, no-op node, no MQTT",
  a: "telemetry-out (Node-RED)",
  b: "function + core mqtt out (Node-RED)",
  c: "raw mqtt.js, one publish per point",
  d: "raw mqtt.js, pre-batched ~64 KB",
  m: `telemetry-out, ${MULTI_POINTS} points per msg`,
};

export interface VariantResult {
  variant: Variant;
  label: string;
  expected: number;
  points: number;
  publishes: number;
  seconds: number;
  pointsPerSecond: number;
  timedOut: boolean;
  /** Seconds until the generator had injected the last msg. */
  injectSeconds: number;
  errors: number;
  firstError?: string;
  /** CPU time of the Node-RED process per msg over the measured window, µs ((f), (a), (b) only). */
  cpuUsPerMsg?: number;
  cpuProfile?: string;
}

export interface RunContext {
  broker: Broker;
  counter: PointCounter;
  workload: Workload;
  timeoutMs: number;
  /** Profile the measured window of (f)/(a)/(b)/(m) into this .cpuprofile file. */
  cpuProfile?: string;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function result(v: Variant, ctx: RunContext, t0: number, generatedAt: number, c: { points: number; messages: number; lastAt: number; timedOut: boolean }, extra: Partial<VariantResult> = {}): VariantResult {
  const end = c.timedOut ? now() : c.lastAt;
  const seconds = (end - t0) / 1000;
  return {
    variant: v,
    label: LABELS[v],
    expected: ctx.workload.msgs,
    points: c.points,
    publishes: c.messages,
    seconds,
    pointsPerSecond: c.timedOut ? 0 : c.points / seconds,
    timedOut: c.timedOut,
    injectSeconds: (generatedAt - t0) / 1000,
    errors: 0,
    ...extra,
  };
}

/** (a) and (b): the same bench-source in a fresh Node-RED process, only the flow differs. */
async function inNodeRed(v: "a" | "b" | "m", ctx: RunContext): Promise<VariantResult> {
  const gateway = v !== "b";
  const flows = gateway ? telemetryOutFlow(ctx.broker.url) : mqttOutFlow(ctx.broker.port);
  const workload = v === "m" ? { ...ctx.workload, pointsPerMsg: MULTI_POINTS } : ctx.workload;
  const host = await NodeRedHost.start({ flows, credentials: gateway ? GATEWAY_CREDENTIALS : {} });
  try {
    await host.ready([gateway ? "gw" : "broker"]);
    await sleep(500); // subscriptions and the first exchanges settle before the clock starts
    if (ctx.cpuProfile) await host.profileStart();
    ctx.counter.reset();
    const counted = ctx.counter.waitFor(ctx.workload.msgs, ctx.timeoutMs);
    const before = await host.stats();
    const t0 = await host.generate(workload);
    const c = await counted;
    const s = await host.stats();
    if (ctx.cpuProfile) await host.profileStop(ctx.cpuProfile);
    const generatedAt = await host.generated();
    const cpuUsPerMsg = (s.cpuUs - before.cpuUs) / (ctx.workload.msgs / (workload.pointsPerMsg ?? 1));
    return result(v, ctx, t0, generatedAt, c, { errors: s.errors?.errors ?? 0, firstError: s.errors?.firstError, cpuUsPerMsg, cpuProfile: ctx.cpuProfile });
  } finally {
    await host.stop();
  }
}

/** (f): the same bench-source into a node that only counts; ends when it counted every msg. */
async function floor(ctx: RunContext): Promise<VariantResult> {
  const host = await NodeRedHost.start({ flows: floorFlow() });
  try {
    await sleep(500);
    if (ctx.cpuProfile) await host.profileStart();
    const before = await host.stats();
    const t0 = await host.generate(ctx.workload);
    const s = await host.waitDone(ctx.workload.msgs, 0, ctx.timeoutMs).catch(() => undefined);
    if (ctx.cpuProfile) await host.profileStop(ctx.cpuProfile);
    const generatedAt = await host.generated();
    const done = s?.done ?? 0;
    const cpuUsPerMsg = s ? (s.cpuUs - before.cpuUs) / ctx.workload.msgs : undefined;
    return result("f", ctx, t0, generatedAt, { points: done, messages: done, lastAt: s?.at ?? 0, timedOut: !s }, { cpuUsPerMsg, cpuProfile: ctx.cpuProfile });
  } finally {
    await host.stop();
  }
}

/** (c) and (d): raw mqtt.js in this process, paced like the bench-source (chunks, then yield). */
async function raw(v: "c" | "d", ctx: RunContext): Promise<VariantResult> {
  const w = ctx.workload;
  const client = await mqtt.connectAsync(ctx.broker.url, { clientId: `bench-raw-${v}-${process.pid}`, clean: true, reconnectPeriod: 0 });
  try {
    const batches = v === "d" ? preBatched(w, Date.now(), 65536) : [];
    ctx.counter.reset();
    const counted = ctx.counter.waitFor(w.msgs, ctx.timeoutMs);
    const t0 = now();
    const generatedAt = await new Promise<number>((resolve) => {
      const total = v === "d" ? batches.length : w.msgs;
      const chunk = v === "d" ? 1 : w.chunk;
      const ts0 = Date.now();
      let i = 0;
      const step = (): void => {
        const end = Math.min(i + chunk, total);
        for (; i < end; i++) client.publish(TELEMETRY_TOPIC, v === "d" ? batches[i] : gatewayPayload(sourceMsg(i, w.devices, ts0)), { qos: 1 });
        if (i < total) setImmediate(step);
        else resolve(now());
      };
      step();
    });
    const c = await counted;
    return result(v, ctx, t0, generatedAt, c);
  } finally {
    await client.endAsync(true);
  }
}

export function runVariant(v: Variant, ctx: RunContext): Promise<VariantResult> {
  if (v === "f") return floor(ctx);
  return v === "c" || v === "d" ? raw(v, ctx) : inNodeRed(v, ctx);
}
