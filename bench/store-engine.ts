// The store itself, without Node-RED's cost per msg: a GatewaySession in this process with
// the disk store (or the memory store). "in": 200,000 uplinks accepted while the session is not
// yet started, until the last is on disk (its callback: done when stored); "out": the session
// starts and the backlog drains through mosquitto until the counter has every point.
import fs from "fs";
import os from "os";
import path from "path";
import { dialectFor } from "../lib/dialect";
import { DiskStore } from "../lib/outbox/store/disk";
import { MemoryStore } from "../lib/outbox/store/memory";
import type { Uplink } from "../lib/records";
import { GatewaySession } from "../lib/session/session";
import { now } from "./clock";
import { runStandalone } from "./standalone";
import type { PointCounter } from "./counter";
import type { Broker } from "./mosquitto";
import { sourceMsg, type Workload } from "./workload";

export interface EngineRun {
  inRate?: number;
  outRate: number;
  errors: number;
  timedOut: boolean;
  /** CPU time of this process per msg: accepting them (until stored, for the disk store), and delivering them. */
  cpuUsIn: number;
  cpuUsOut: number;
  /** Disk store: records per commit (one write per chunk and one fdatasync each), over the run. */
  recordsPerCommit?: number;
}

/** With STORE_ENGINE_PROFILE=<file>: a CPU profile of the disk store's backlog drain (the "out" phase). */
async function startProfile(): Promise<(() => Promise<void>) | undefined> {
  const file = process.env.STORE_ENGINE_PROFILE;
  if (!file) return undefined;
  const { Session } = await import("inspector");
  const s = new Session();
  s.connect();
  const post = (m: string, p?: object): Promise<unknown> => new Promise((resolve, reject) => s.post(m, p ?? {}, (err, r) => (err ? reject(err) : resolve(r))));
  await post("Profiler.enable");
  await post("Profiler.start");
  return async () => {
    const { profile } = (await post("Profiler.stop")) as { profile: unknown };
    s.disconnect();
    fs.writeFileSync(file, JSON.stringify(profile));
  };
}

function cpuUs(since: NodeJS.CpuUsage): number {
  const c = process.cpuUsage(since);
  return c.user + c.system;
}

export async function runEngine(kind: "disk" | "memory", broker: Broker, counter: PointCounter, w: Workload, timeoutMs: number): Promise<EngineRun> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "store-engine-"));
  const store = kind === "disk" ? new DiskStore({ dir, maxBytes: 0, doneWhen: "stored", telemetryPieces: "ts-values", ...(process.env.STORE_MEMORY_ENTRIES ? { memoryEntries: Number(process.env.STORE_MEMORY_ENTRIES) } : {}) }) : new MemoryStore();
  const session = new GatewaySession({
    url: broker.url,
    dialect: dialectFor("thingsboard"),
    credentials: { accessToken: "bench-engine" },
    reconnect: { minMs: 200, maxMs: 1000 },
    outbox: { maxQueued: Number.MAX_SAFE_INTEGER, batchWindowMs: 20 },
    store,
    askLimits: false,
  });
  let errors = 0;
  try {
    if (store instanceof DiskStore) await store.open();
    let done = 0;
    let allIn!: () => void;
    const inDone = new Promise<void>((r) => (allIn = r));
    const cb = (err?: Error): void => {
      if (err) errors++;
      if (++done === w.msgs) allIn();
    };
    const c0 = process.cpuUsage();
    const t0 = now();
    const ts0 = Date.now();
    await new Promise<void>((resolve) => {
      let i = 0;
      const step = (): void => {
        for (const end = Math.min(i + w.chunk, w.msgs); i < end; i++) {
          const m = sourceMsg(i, w.devices, ts0);
          const u: Uplink = { kind: "telemetry", device: m.device, points: [{ ts: m.ts, values: m.payload }] };
          session.submit([u], {}, cb);
        }
        if (i < w.msgs) setImmediate(step);
        else resolve();
      };
      step();
    });
    let inRate: number | undefined;
    if (kind === "disk") {
      await inDone;
      inRate = w.msgs / ((now() - t0) / 1000);
    }
    const cpuUsIn = cpuUs(c0) / w.msgs;
    counter.reset();
    const counted = counter.waitFor(w.msgs, timeoutMs);
    const profile = kind === "disk" ? await startProfile() : undefined;
    const c1 = process.cpuUsage();
    const t1 = now();
    session.start();
    const c = await counted;
    const cpuUsOut = cpuUs(c1) / w.msgs;
    await profile?.();
    const commits = store instanceof DiskStore ? store.commits : undefined;
    const recordsPerCommit = commits && commits.commits > 0 ? commits.records / commits.commits : undefined;
    return { inRate, outRate: c.timedOut ? 0 : c.points / ((c.lastAt - t1) / 1000), errors, timedOut: c.timedOut, cpuUsIn, cpuUsOut, recordsPerCommit };
  } finally {
    await session.stop();
    if (store instanceof DiskStore) await store.close(true);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `node [--cpu-prof] dist/bench/store-engine.js [--kind disk|memory|both] [--msgs N]`: the engine
 * alone on a private mosquitto, with the CPU time of this process per msg (in, out).
 */
if (require.main === module) {
  runStandalone(async (broker, counter, w) => {
    const arg = process.argv.indexOf("--kind");
    const kind = arg > 0 ? process.argv[arg + 1] : "both";
    for (const k of kind === "both" ? (["disk", "memory"] as const) : [kind as "disk" | "memory"]) {
      const r = await runEngine(k, broker, counter, w, 300000);
      console.log(`engine ${k}: in ${fmt(r.inRate ?? 0)} points/s, out ${fmt(r.outRate)} points/s, CPU µs/msg in ${r.cpuUsIn.toFixed(1)}, out ${r.cpuUsOut.toFixed(1)}${r.recordsPerCommit ? `, ${fmt(r.recordsPerCommit)} records per fsync` : ""}${r.errors ? `, errors ${r.errors}` : ""}${r.timedOut ? ", TIMED OUT" : ""}`);
    }
  });
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}
