// The engine's own cost, without Node-RED, a broker or a socket: `node dist/bench/engine.js`.
// The telemetry-out path (payload shape → session.submit → validate, prepare, queue, encode,
// settle) with a transport that acknowledges each publish on the next turn. Prints CPU µs per
// msg and per point, and the heap left held while msgs wait for their PUBACK. For quick
// before/after comparisons of one change; `npm run bench` is the measure that counts.
import { PerformanceObserver, constants } from "perf_hooks";
import { dialectFor } from "../lib/dialect";
import type { Transport } from "../lib/outbox/errors";
import { telemetryUplinks } from "../lib/shapes/telemetry";
import { GatewaySession } from "../lib/session/session";
import { multiDevicePayload, sourceMsg } from "./workload";

/** Collections since start, by kind: the count of scavenges follows the bytes allocated, steadier than CPU time on a busy machine. */
const gcs = { minor: 0, major: 0, ms: 0 };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
    if (kind === constants.NODE_PERFORMANCE_GC_MINOR) gcs.minor++;
    else gcs.major++;
    gcs.ms += e.duration;
  }
}).observe({ entryTypes: ["gc"] });

interface Run {
  label: string;
  minorGcs: number;
  majorGcs: number;
  gcMs: number;
  msgs: number;
  points: number;
  cpuUs: number;
  errors: number;
}

function session(): GatewaySession {
  const s = new GatewaySession({ url: "mqtt://127.0.0.1:1", dialect: dialectFor("thingsboard"), credentials: { accessToken: "x" }, outbox: { maxQueued: 10_000_000 }, askLimits: false });
  const transport: Transport = { publish: () => new Promise<void>((r) => setImmediate(r)) };
  // Attached as the connection would attach it on connect (no socket).
  (s as unknown as { onUp(t: Transport): void }).onUp(transport);
  return s;
}

async function run(label: string, msgs: number, perMsg: number, chunk = 1000): Promise<Run> {
  const s = session();
  const devices = 100;
  const t0 = Date.now();
  let ended = 0;
  let errors = 0;
  const total = Math.ceil(msgs / perMsg);
  let finish!: () => void;
  const all = new Promise<void>((r) => (finish = r));
  const done = (err?: Error): void => {
    if (err) errors++;
    if (++ended === total) finish();
  };
  const gc0 = { ...gcs };
  const cpu0 = process.cpuUsage();
  let i = 0;
  await new Promise<void>((resolve) => {
    const step = (): void => {
      const end = Math.min(i + chunk, msgs);
      for (; i < end; i += perMsg) {
        if (perMsg === 1) {
          const m = sourceMsg(i, devices, t0);
          const u = telemetryUplinks(m.payload, m.device, m.ts);
          if (typeof u === "string") throw new Error(u);
          s.submit(u, { autoConnect: true }, done);
        } else {
          const u = telemetryUplinks(multiDevicePayload(i, Math.min(perMsg, msgs - i), devices, t0), undefined, Date.now());
          if (typeof u === "string") throw new Error(u);
          s.submit(u, { autoConnect: true }, done);
        }
      }
      if (i < msgs) setImmediate(step);
      else resolve();
    };
    step();
  });
  await all;
  const c = process.cpuUsage(cpu0);
  await new Promise((r) => setImmediate(r)); // the observer hears of the last collections
  await s.stop();
  return { label, msgs: total, points: msgs, cpuUs: c.user + c.system, errors, minorGcs: gcs.minor - gc0.minor, majorGcs: gcs.major - gc0.major, gcMs: gcs.ms - gc0.ms };
}

/**
 * Heap held per waiting msg (the session not connected), after full GCs: deterministic where CPU
 * times are not. The msg itself (its payload) counts too, as Node-RED's done would hold it.
 */
async function heldPerMsg(n: number, perMsg: number): Promise<number | undefined> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return undefined;
  const s = new GatewaySession({ url: "mqtt://127.0.0.1:1", dialect: dialectFor("thingsboard"), credentials: { accessToken: "x" }, outbox: { maxQueued: 10_000_000 }, askLimits: false });
  const keep: unknown[] = [];
  const noop = (): void => undefined;
  const t0 = Date.now();
  for (let i = 0; i < 200; i++) s.registry.add(`Device ${i}`); // the devices are known: their records do not count
  for (let r = 0; r < 3; r++) gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < n; i += perMsg) {
    const payload = perMsg === 1 ? sourceMsg(i, 100, t0) : { device: undefined, payload: multiDevicePayload(i, perMsg, 100, t0), ts: t0 };
    keep.push(payload);
    const u = telemetryUplinks(payload.payload, payload.device, payload.ts);
    if (typeof u === "string") throw new Error(u);
    s.submit(u, { autoConnect: true }, noop);
  }
  for (let r = 0; r < 3; r++) gc();
  const held = (process.memoryUsage().heapUsed - before) / (n / perMsg);
  await s.stop();
  keep.length = 0;
  return held;
}

async function main(): Promise<void> {
  const msgs = Number(process.argv[2] ?? 200000);
  const rounds = Number(process.argv[3] ?? 3);
  // The least CPU of the rounds: other load only ever adds to it.
  const best = new Map<string, Run>();
  for (let r = 0; r < rounds; r++) {
    for (const [label, per] of [["one point per msg", 1], ["100 points per msg", 100]] as const) {
      const x = await run(label, msgs, per);
      if (!best.has(label) || best.get(label)!.cpuUs > x.cpuUs) best.set(label, x);
    }
  }
  for (const per of [1, 100]) {
    const b = await heldPerMsg(100000, per);
    if (b !== undefined) console.log(`held while waiting, ${per === 1 ? "one point per msg" : "100 points per msg"}: ${b.toFixed(0)} bytes per msg (${(b / per).toFixed(0)} per point), the msg included`);
  }
  for (const x of best.values()) {
    console.log(`${x.label.padEnd(20)} ${(x.cpuUs / x.msgs).toFixed(2).padStart(8)} µs/msg ${(x.cpuUs / x.points).toFixed(2).padStart(6)} µs/point  GC ${x.minorGcs} minor ${x.majorGcs} major ${x.gcMs.toFixed(0)} ms  ${x.errors} errors (least CPU of ${rounds} rounds)`);
  }
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(err.stack ?? err);
    process.exit(1);
  },
);
