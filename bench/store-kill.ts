// kill -9 during an outage, end to end: a real Node-RED process (bench/store-host.ts) sends
// `rate` msgs/s to a gateway whose server is down (nothing listens on its port), its msgs are
// done once on disk; after `outageMs` it is killed with SIGKILL, started again on the same
// userDir, and the server comes up on that port. Every msg that was done must arrive, in order
// per device; duplicates are counted (nothing was in flight, so none are expected).
import { fork, type ChildProcess } from "child_process";
import fs from "fs";
import os from "os";
import path from "path";
import { ThingsBoardEmulator } from "../emulator/thingsboard";
import { freePort } from "./mosquitto";
import type { StoreHostArgs, StoreHostReport } from "./store-host";

export interface KillResult {
  /** Msgs done (stored) before the kill, as the parent heard of them. */
  stored: number;
  /** Of those, how many reached the server. */
  delivered: number;
  lost: number;
  /** Points that arrived more than once. */
  duplicates: number;
  /** Devices whose points arrived out of order. */
  outOfOrder: number;
  errors: string[];
  /** Devices announced (connect) after the restart before their first telemetry. */
  announcedFirst: number;
  devices: number;
}

export interface KillOptions {
  rate: number;
  devices: number;
  outageMs: number;
  timeoutMs: number;
}

class Host {
  readonly child: ChildProcess;
  readonly done: Array<[number, number]> = [];
  readonly errors: string[] = [];
  waiting = 0;
  private readonly ready: Promise<void>;
  readonly exited: Promise<void>;

  constructor(args: StoreHostArgs) {
    this.child = fork(path.join(__dirname, "store-host.js"), [JSON.stringify(args)], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    this.exited = new Promise((r) => this.child.once("exit", () => r()));
    this.ready = new Promise((resolve, reject) => {
      this.child.on("message", (m: StoreHostReport & { ready?: boolean }) => {
        if (m.ready) return resolve();
        for (const d of m.done ?? []) this.done.push(d);
        for (const e of m.errors ?? []) this.errors.push(e);
        if (m.waiting !== undefined) this.waiting = m.waiting;
      });
      this.child.once("exit", (code) => reject(new Error(`Node-RED exited (code ${code}) before it was ready`)));
    });
  }

  started(): Promise<void> {
    return this.ready;
  }

  async kill(): Promise<void> {
    this.child.kill("SIGKILL");
    await this.exited;
  }
}

async function until(probe: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function runKillScenario(o: KillOptions): Promise<KillResult> {
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), "store-kill-"));
  const port = await freePort();
  const url = `mqtt://127.0.0.1:${port}`;
  let emu: ThingsBoardEmulator | undefined;
  let second: Host | undefined;
  const first = new Host({ userDir, url, rate: o.rate, devices: o.devices, generate: true });
  try {
    await first.started();
    await new Promise((r) => setTimeout(r, o.outageMs));
    await first.kill();
    const stored = first.done;
    emu = await ThingsBoardEmulator.start({ port });
    second = new Host({ userDir, url, rate: 0, devices: o.devices, generate: false });
    await second.started();
    const e = emu;
    const want = new Map<number, Set<number>>();
    for (const [d, n] of stored) (want.get(d) ?? want.set(d, new Set()).get(d)!).add(n);
    const arrived = (): number => {
      let k = 0;
      for (const [d, ns] of want) {
        const got = new Set(e.telemetry(`Device ${d}`).map((p) => p.values.n as number));
        for (const n of ns) if (got.has(n)) k++;
      }
      return k;
    };
    await until(() => arrived() === stored.length || second!.errors.length > 0, o.timeoutMs, "the stored msgs").catch(() => undefined);
    await new Promise((r) => setTimeout(r, 300)); // late duplicates, if any
    let duplicates = 0;
    let outOfOrder = 0;
    let announcedFirst = 0;
    const journal = e.journal();
    for (let d = 0; d < o.devices; d++) {
      const ns = e.telemetry(`Device ${d}`).map((p) => p.values.n as number);
      duplicates += ns.length - new Set(ns).size;
      const firstSeen = [...new Set(ns)];
      if (firstSeen.some((n, i) => i > 0 && n < firstSeen[i - 1])) outOfOrder++;
      const name = `Device ${d}`;
      const connectAt = journal.findIndex((j) => j.device === name && j.topic === "v1/gateway/connect");
      const dataAt = journal.findIndex((j) => j.device === name && j.topic === "v1/gateway/telemetry");
      if (connectAt >= 0 && (dataAt < 0 || connectAt < dataAt)) announcedFirst++;
    }
    const delivered = arrived();
    return { stored: stored.length, delivered, lost: stored.length - delivered, duplicates, outOfOrder, errors: [...first.errors, ...second.errors], announcedFirst, devices: o.devices };
  } finally {
    if (!first.child.killed) first.child.kill("SIGKILL");
    if (second) await second.kill();
    await emu?.stop();
    fs.rmSync(userDir, { recursive: true, force: true });
  }
}
