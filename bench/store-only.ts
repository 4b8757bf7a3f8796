// The disk store's own cost, without a session, a broker or Node-RED: CPU µs per entry of the
// DiskStore against the MemoryStore on the workload's uplinks (prepared as the session does).
//   live:    chunks of 1000 pushed, taken at once and acknowledged (a connected gateway)
//   backlog: every entry pushed and stored first, then taken and acknowledged (after an outage:
//            beyond `memoryEntries` they are read back from the log)
// `node dist/bench/store-only.js [--msgs N] [--rounds R]`
import fs from "fs";
import os from "os";
import path from "path";
import { thingsboard } from "../lib/dialect/thingsboard";
import type { Dialect } from "../lib/dialect/types";
import { DiskStore } from "../lib/outbox/store/disk";
import { MemoryStore } from "../lib/outbox/store/memory";
import type { Entry, UplinkStore } from "../lib/outbox/types";
import type { Uplink } from "../lib/records";
import { sourceMsg } from "./workload";

export interface StoreOnlyRun {
  /** CPU µs per entry: pushing it until it is stored (done), and taking it until it is acknowledged. */
  inUs: number;
  outUs: number;
  errors: number;
}

const dialect: Dialect = thingsboard;

function cpu(since: NodeJS.CpuUsage): number {
  const c = process.cpuUsage(since);
  return c.user + c.system;
}

const yieldIO = (): Promise<void> => new Promise((r) => setImmediate(r));

export async function runStoreOnly(kind: "disk" | "memory", mode: "live" | "backlog", msgs: number): Promise<StoreOnlyRun> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "store-only-"));
  const store: UplinkStore = kind === "disk" ? new DiskStore({ dir, maxBytes: 0, doneWhen: "stored" }) : new MemoryStore();
  let done = 0;
  let errors = 0;
  let acked = 0;
  const ok = (): void => void done++;
  const bad = (): void => {
    errors++;
    done++;
  };
  const ack = (): void => void acked++;
  const ackBad = (): void => {
    errors++;
    acked++;
  };
  const make = (i: number): Entry => {
    const m = sourceMsg(i, 100, 1764000000000);
    const uplink: Uplink = { kind: "telemetry", device: m.device, points: [{ ts: m.ts, values: m.payload }] };
    return { uplink, resolve: kind === "disk" ? ok : noop, reject: bad, prepared: dialect.prepare(uplink) };
  };
  const settle = (es: Entry[]): void => {
    for (const e of es) {
      // What the memory store hands out is the sender's entry itself: count its ack here.
      if (kind === "memory") acked++;
      e.resolve();
    }
  };
  try {
    if (store instanceof DiskStore) await store.open();
    let inUs = 0;
    let outUs = 0;
    if (mode === "live") {
      for (let i = 0; i < msgs; ) {
        const c0 = process.cpuUsage();
        for (const end = Math.min(i + 1000, msgs); i < end; i++) store.push(make(i));
        const taken = store.take(5000);
        inUs += cpu(c0);
        await yieldIO();
        const c1 = process.cpuUsage();
        settle(taken);
        outUs += cpu(c1);
      }
    } else {
      const c0 = process.cpuUsage();
      for (let i = 0; i < msgs; ) {
        for (const end = Math.min(i + 1000, msgs); i < end; i++) store.push(make(i));
        await yieldIO();
      }
      inUs += cpu(c0);
      const c1 = process.cpuUsage();
      for (;;) {
        const taken = store.take(5000);
        if (taken.length === 0) break;
        settle(taken);
        await yieldIO();
      }
      outUs += cpu(c1);
    }
    const c2 = process.cpuUsage();
    // Until every entry is stored (done), and every ack record is written.
    while (kind === "disk" && done < msgs) await new Promise((r) => setTimeout(r, 1));
    if (store instanceof DiskStore) {
      store.clear();
      await store.close();
    }
    inUs += cpu(c2);
    void ack;
    void ackBad;
    return { inUs: inUs / msgs, outUs: outUs / msgs, errors };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function noop(): void {
  /* the memory store's entries are done when acknowledged */
}

if (require.main === module) {
  void (async () => {
    const arg = (name: string): string | undefined => {
      const i = process.argv.indexOf(name);
      return i > 0 ? process.argv[i + 1] : undefined;
    };
    const msgs = Number(arg("--msgs") ?? 200000);
    const rounds = Number(arg("--rounds") ?? 3);
    const modes = (arg("--mode") ?? "live,backlog").split(",") as Array<"live" | "backlog">;
    for (const mode of modes) {
      const rs: Record<string, StoreOnlyRun[]> = { disk: [], memory: [] };
      for (let r = 0; r < rounds; r++) for (const kind of ["disk", "memory"] as const) rs[kind].push(await runStoreOnly(kind, mode, msgs));
      const med = (xs: number[]): number => xs.sort((a, b) => a - b)[xs.length >> 1];
      const f = (k: string): string => `in ${med(rs[k].map((x) => x.inUs)).toFixed(2)} µs, out ${med(rs[k].map((x) => x.outUs)).toFixed(2)} µs`;
      console.log(`store alone, ${mode}: disk ${f("disk")}; memory ${f("memory")} (CPU per entry, median of ${rounds})${rs.disk.some((x) => x.errors) ? "; ERRORS" : ""}`);
    }
  })().catch((err: Error) => {
    console.error(err.stack ?? err);
    process.exit(1);
  });
}
