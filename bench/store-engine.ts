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
import type { PointCounter } from "./counter";
import type { Broker } from "./mosquitto";
import { sourceMsg, type Workload } from "./workload";

export interface EngineRun {
  inRate?: number;
  outRate: number;
  errors: number;
  timedOut: boolean;
}

export async function runEngine(kind: "disk" | "memory", broker: Broker, counter: PointCounter, w: Workload, timeoutMs: number): Promise<EngineRun> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "store-engine-"));
  const store = kind === "disk" ? new DiskStore({ dir, maxBytes: 0, doneWhen: "stored" }) : new MemoryStore();
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
    counter.reset();
    const counted = counter.waitFor(w.msgs, timeoutMs);
    const t1 = now();
    session.start();
    const c = await counted;
    return { inRate, outRate: c.timedOut ? 0 : c.points / ((c.lastAt - t1) / 1000), errors, timedOut: c.timedOut };
  } finally {
    await session.stop();
    if (store instanceof DiskStore) await store.close(true);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
