// The disk store's benchmark (issue 8): the workload of issue 2 (200,000 msgs, 100 devices, 2
// values) through telemetry-out and mosquitto at QoS 1, once with the disk store (done() when
// stored: "in" is the rate of done msgs, "out" the rate of points the broker delivered) and
// once with the memory store (done on PUBACK); then the kill -9 scenario of store-kill.ts.
import fs from "fs";
import os from "os";
import path from "path";
import type { PointCounter } from "./counter";
import { telemetryOutFlowWith } from "./flows";
import type { Broker } from "./mosquitto";
import { runLeast } from "./floor";
import { runStandalone } from "./standalone";
import { runEngine } from "./store-engine";
import { describeSplit, storeSplit } from "./store-profile";
import { runKillScenario, type KillResult } from "./store-kill";
import { throughNodeRed, type ThroughRun } from "./through";
import type { Workload } from "./workload";

export const STORE_TARGET = { pointsPerSecond: 100000, ofMemory: 0.5 };

export type StoreRun = ThroughRun;

async function run(gateway: Record<string, unknown>, broker: Broker, counter: PointCounter, w: Workload, timeoutMs: number, profile?: string): Promise<StoreRun> {
  const r = await throughNodeRed(telemetryOutFlowWith(broker.url, gateway), "gw", broker, counter, w, timeoutMs, profile);
  if (profile) console.log(`    profile ${profile}: ${describeSplit(storeSplit(profile), w.msgs)}`);
  return r;
}

const fmt = (n: number): string => Math.round(n).toLocaleString("en-US");

/** `profileDir`: CPU profiles of the two Node-RED runs there (slows them), and where their time went. */
export async function runStoreBench(broker: Broker, counter: PointCounter, w: Workload, timeoutMs: number, profileDir?: string): Promise<{ disk: StoreRun; memory: StoreRun; kill: KillResult }> {
  const prof = (name: string): string | undefined => (profileDir ? path.join(profileDir, `store-${name}.cpuprofile`) : undefined);
  const disk = await run({ storeType: "disk", storePath: "", doneWhen: "stored" }, broker, counter, w, timeoutMs, prof("disk"));
  // A bound above the workload: the memory store must not refuse what the disk store takes.
  const memory = await run({ storeType: "memory", maxQueued: 10 * w.msgs }, broker, counter, w, timeoutMs, prof("memory"));
  console.log(`store: in ${fmt(disk.inRate)} points/s, out ${fmt(disk.outRate)} points/s, memory store ${fmt(memory.outRate)} points/s`);
  console.log(`    CPU of the Node-RED process per msg: disk store ${disk.cpuUsPerMsg.toFixed(1)} µs, memory store ${memory.cpuUsPerMsg.toFixed(1)} µs`);
  const met = disk.inRate >= STORE_TARGET.pointsPerSecond && disk.outRate >= STORE_TARGET.pointsPerSecond && Math.min(disk.inRate, disk.outRate) >= STORE_TARGET.ofMemory * memory.outRate;
  console.log(`    targets ≥ ${fmt(STORE_TARGET.pointsPerSecond)} points/s in and out, ≥ ${STORE_TARGET.ofMemory}× memory: ${met ? "met" : "NOT met"}${disk.errors || memory.errors ? `; errors disk ${disk.errors}, memory ${memory.errors} (${disk.firstError ?? memory.firstError})` : ""}${disk.timedOut || memory.timedOut ? "; TIMED OUT" : ""}`);
  // The plainest node that keeps the disk store's promise (bench/floor-nodes.ts): what this machine gives at all.
  const least = await runLeast(broker, counter, w, timeoutMs, true);
  console.log(`    the least node writing each point to disk (CRC, group commit, done after fdatasync) reaches in ${fmt(least.inRate)}, out ${fmt(least.outRate)} points/s in this run, CPU ${least.cpuUsPerMsg.toFixed(1)} µs/msg`);
  const de = await runEngine("disk", broker, counter, w, timeoutMs);
  const me = await runEngine("memory", broker, counter, w, timeoutMs);
  console.log(`store engine alone (no Node-RED): in ${fmt(de.inRate ?? 0)} points/s, out (backlog drain) ${fmt(de.outRate)} points/s, memory store ${fmt(me.outRate)} points/s${de.errors || me.errors ? `; errors ${de.errors + me.errors}` : ""}`);
  const kill = await runKillScenario({ rate: 500, devices: 100, outageMs: 10000, timeoutMs });
  console.log(`kill -9 during outage: stored ${fmt(kill.stored)}, delivered ${fmt(kill.delivered)}, lost ${fmt(kill.lost)}, duplicates ${fmt(kill.duplicates)}`);
  if (kill.outOfOrder || kill.errors.length) console.log(`    out of order on ${kill.outOfOrder} devices; errors: ${kill.errors.slice(0, 3).join("; ")}`);
  return { disk, memory, kill };
}

/** `node dist/bench/store.js [--msgs N] [--profile]`: this benchmark alone, on a private mosquitto. */
if (require.main === module) {
  runStandalone(async (broker, counter, w) => {
    const profileDir = process.argv.includes("--profile") ? fs.mkdtempSync(path.join(os.tmpdir(), "store-profile-")) : undefined;
    await runStoreBench(broker, counter, w, 300000, profileDir);
  });
}
