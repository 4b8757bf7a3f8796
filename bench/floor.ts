// The floors of issues 14 and 8, side by side in one run: Node-RED alone (f), the least gateway
// node (bench/floor-nodes.ts) with done on PUBACK and with done when written to disk, and
// telemetry-out with the memory store and the disk store. What the least node reaches is the most
// any telemetry-out could reach on this machine; a target above it cannot be met by any
// implementation that keeps the promises, only by dropping one.
import fs from "fs";
import os from "os";
import path from "path";
import type { PointCounter } from "./counter";
import { leastGatewayFlow, telemetryOutFlowWith, type FlowNode } from "./flows";
import type { Broker } from "./mosquitto";
import { runDrainFloor, type DrainFloor } from "./floor-drain";
import { runStandalone } from "./standalone";
import { runEngine, type EngineRun } from "./store-engine";
import { MULTI_POINTS, runVariant } from "./telemetry";
import { throughNodeRed, type ThroughRun } from "./through";
import type { Workload } from "./workload";

export type FloorRun = Pick<ThroughRun, "inRate" | "outRate" | "cpuUsPerMsg" | "timedOut">;

/** The least gateway node alone (bench/floor-nodes.ts): done on PUBACK, or when written to disk (`disk`). */
export async function runLeast(broker: Broker, counter: PointCounter, w: Workload, timeoutMs: number, disk = false): Promise<FloorRun> {
  const dir = disk ? fs.mkdtempSync(path.join(os.tmpdir(), "least-gateway-")) : "";
  try {
    return await throughNodeRed(leastGatewayFlow(broker.url, dir), "tel", broker, counter, w, timeoutMs);
  } finally {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }
}

const fmt = (n: number): string => Math.round(n).toLocaleString("en-US");

export interface Floors {
  f: FloorRun;
  least: FloorRun;
  /** The least node done on accept (breaks the promise): what holding msgs until their PUBACK costs. */
  leastAtAccept: FloorRun;
  leastDisk: FloorRun;
  a: FloorRun;
  aDisk: FloorRun;
  leastM: FloorRun;
  m: FloorRun;
  d: FloorRun;
  leastDrain: DrainFloor;
  drainDisk: EngineRun;
  drainMemory: EngineRun;
}

/** Runs the five side by side and prints what they say about a/f ≥ 0.5 and the disk store's 100,000 points/s. */
export async function runFloors(broker: Broker, counter: PointCounter, w: Workload, timeoutMs: number, profileDir?: string): Promise<Floors> {
  const prof = (name: string): string | undefined => (profileDir ? path.join(profileDir, `floor-${name}.cpuprofile`) : undefined);
  if (profileDir) fs.mkdirSync(profileDir, { recursive: true }); // bench/results is not in a fresh clone
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "least-gateway-"));
  try {
    const fr = await runVariant("f", { broker, counter, workload: w, timeoutMs });
    const f: FloorRun = { inRate: fr.pointsPerSecond, outRate: fr.pointsPerSecond, cpuUsPerMsg: fr.cpuUsPerMsg ?? NaN, timedOut: fr.timedOut };
    const least = await throughNodeRed(leastGatewayFlow(broker.url), "tel", broker, counter, w, timeoutMs, prof("least"));
    const leastAtAccept = await throughNodeRed(leastGatewayFlow(broker.url, "", "accept"), "tel", broker, counter, w, timeoutMs, prof("least-accept"));
    const leastDisk = await throughNodeRed(leastGatewayFlow(broker.url, dir), "tel", broker, counter, w, timeoutMs, prof("least-disk"));
    const tel = (gw: Record<string, unknown>): FlowNode[] => telemetryOutFlowWith(broker.url, gw);
    const a = await throughNodeRed(tel({ storeType: "memory", maxQueued: 10 * w.msgs }), "gw", broker, counter, w, timeoutMs, prof("a"));
    const aDisk = await throughNodeRed(tel({ storeType: "disk", storePath: "", doneWhen: "stored" }), "gw", broker, counter, w, timeoutMs, prof("a-disk"));
    const wm = { ...w, pointsPerMsg: MULTI_POINTS };
    const leastM = await throughNodeRed(leastGatewayFlow(broker.url), "tel", broker, counter, wm, timeoutMs, prof("least-m"));
    const m = await throughNodeRed(tel({ storeType: "memory", maxQueued: 10 * w.msgs }), "gw", broker, counter, wm, timeoutMs, prof("m"));
    const dr = await runVariant("d", { broker, counter, workload: w, timeoutMs });
    const d: FloorRun = { inRate: dr.pointsPerSecond, outRate: dr.pointsPerSecond, cpuUsPerMsg: NaN, timedOut: dr.timedOut };
    const leastDrain = await runDrainFloor(broker, counter, w, timeoutMs);
    const drainDisk = await runEngine("disk", broker, counter, w, timeoutMs);
    const drainMemory = await runEngine("memory", broker, counter, w, timeoutMs);
    const line = (name: string, r: FloorRun): string =>
      `    ${name.padEnd(62)} in ${fmt(r.inRate).padStart(9)}  out ${fmt(r.outRate).padStart(9)} points/s  CPU ${r.cpuUsPerMsg.toFixed(1).padStart(5)} µs/msg${r.timedOut ? "  TIMED OUT" : ""}`;
    console.log("floors (one run, side by side; in = msgs done, out = points the broker delivered):");
    console.log(line("(f) Node-RED alone, no-op node", f));
    console.log(line("least gateway node, done on PUBACK (bench/floor-nodes.ts)", least));
    console.log(line("the same, done at once (breaks the promise: measure only)", leastAtAccept));
    console.log(line("least gateway node, done when written to disk", leastDisk));
    console.log(line("(a) telemetry-out, memory store, done on PUBACK", a));
    console.log(line("(a) telemetry-out, disk store, done when stored", aDisk));
    console.log(line(`least gateway node, ${MULTI_POINTS} points per msg (CPU per point)`, leastM));
    console.log(line(`(m) telemetry-out, ${MULTI_POINTS} points per msg (CPU per point)`, m));
    console.log(line("(d) raw mqtt.js, pre-batched ~64 KB", d));
    const drainLine = (name: string, rate: number, cpu: number, timedOut: boolean): string =>
      `    ${name.padEnd(62)}                    out ${fmt(rate).padStart(9)} points/s  CPU ${cpu.toFixed(1).padStart(5)} µs/point${timedOut ? "  TIMED OUT" : ""}`;
    console.log(drainLine("least drain of a backlog on disk (bench/floor-drain.ts)", leastDrain.outRate, leastDrain.cpuUsOut, leastDrain.timedOut));
    console.log(drainLine("the disk store's drain of a backlog (no Node-RED)", drainDisk.outRate, drainDisk.cpuUsOut, drainDisk.timedOut));
    console.log(drainLine("the memory store's drain of a backlog (no Node-RED)", drainMemory.outRate, drainMemory.cpuUsOut, drainMemory.timedOut));
    console.log(
      `floor of a: the least gateway node reaches least/f = ${(least.inRate / f.inRate).toFixed(2)} (a/f = ${(a.inRate / f.inRate).toFixed(2)}); ` +
        `telemetry-out costs ${(a.cpuUsPerMsg - least.cpuUsPerMsg).toFixed(1)} µs/msg above it; ` +
        `done at once instead of on PUBACK, the least node would reach ${(leastAtAccept.inRate / f.inRate).toFixed(2)} (${(least.cpuUsPerMsg - leastAtAccept.cpuUsPerMsg).toFixed(1)} µs/msg: holding each msg until its PUBACK)`,
    );
    console.log(
      `floor of the disk store: the least node writing to disk reaches in ${fmt(leastDisk.inRate)}, out ${fmt(leastDisk.outRate)} points/s ` +
        `(telemetry-out with the disk store: in ${fmt(aDisk.inRate)}, out ${fmt(aDisk.outRate)}; ${(aDisk.cpuUsPerMsg - leastDisk.cpuUsPerMsg).toFixed(1)} µs/msg above it)`,
    );
    console.log(
      `floor of m: the least gateway node with ${MULTI_POINTS} points per msg reaches least/d = ${(leastM.outRate / d.outRate).toFixed(2)} (m/d = ${(m.outRate / d.outRate).toFixed(2)}); ` +
        `telemetry-out costs ${(m.cpuUsPerMsg - leastM.cpuUsPerMsg).toFixed(1)} µs per point above it`,
    );
    console.log(
      `floor of the drain: the least drain from disk reaches least/d = ${(leastDrain.outRate / d.outRate).toFixed(2)} ` +
        `(drain/d = ${(drainDisk.outRate / d.outRate).toFixed(2)} disk, ${(drainMemory.outRate / d.outRate).toFixed(2)} memory); the disk store costs ${(drainDisk.cpuUsOut - leastDrain.cpuUsOut).toFixed(1)} µs per point above it`,
    );
    return { f, least, leastAtAccept, leastDisk, a, aDisk, leastM, m, d, leastDrain, drainDisk, drainMemory };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** `node dist/bench/floor.js [--msgs N] [--profile]`: the floors alone, on a private mosquitto (profiles in bench/results). */
if (require.main === module) {
  runStandalone((broker, counter, w) =>
    runFloors(broker, counter, w, 300000, process.argv.includes("--profile") ? path.resolve(__dirname, "..", "..", "bench", "results") : undefined).then(() => undefined),
  );
}
