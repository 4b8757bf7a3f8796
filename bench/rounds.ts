// Each measurement of `npm run bench` repeated in one process, to tell what a fresh process costs
// (V8 compiling and re-compiling the code as its types settle) from the steady state. The bench
// measures each variant once, in a fresh Node-RED process (and the backlog drains once in its
// own): this shows whether the ratios it prints are a warm-up effect.
//   node dist/bench/rounds.js [--rounds N] [--msgs N]
// prints, per round, f, the least gateway node and (a) through one Node-RED process each, then
// (d), the least drain from disk and the two stores' drains in this process.
import type { PointCounter } from "./counter";
import { runDrainFloor } from "./floor-drain";
import { floorFlow, leastGatewayFlow, telemetryOutFlowWith, type FlowNode } from "./flows";
import type { Broker } from "./mosquitto";
import { runStandalone } from "./standalone";
import { runEngine } from "./store-engine";
import { runVariant } from "./telemetry";
import { measureRun, startNodeRed } from "./through";
import type { Workload } from "./workload";

interface Round {
  rate: number;
  cpuUsPerMsg?: number;
}

/** `rounds` runs of the workload through one Node-RED process with `flows`; `ready`: the node to wait for (none for f, which publishes nothing). */
async function inOneNodeRed(flows: FlowNode[], ready: string | undefined, counter: PointCounter, w: Workload, rounds: number): Promise<Round[]> {
  const host = await startNodeRed(flows, ready);
  const out: Round[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      const run = await measureRun(host, counter, w, r * w.msgs, 300000, undefined, ready !== undefined);
      if (run.timedOut) throw new Error(`round ${r + 1} timed out (${run.errors} errors${run.firstError ? `: ${run.firstError}` : ""})`);
      out.push({ rate: run.inRate, cpuUsPerMsg: run.cpuUsPerMsg });
    }
  } finally {
    await host.stop();
  }
  return out;
}

const fmt = (n: number): string => Math.round(n).toLocaleString("en-US");
const show = (name: string, rs: Round[]): void =>
  console.log(`${name.padEnd(34)} ${rs.map((r) => `${fmt(r.rate).padStart(9)}${r.cpuUsPerMsg === undefined ? "" : ` (${r.cpuUsPerMsg.toFixed(2)} µs)`}`).join("  ")}`);

export async function runRounds(broker: Broker, counter: PointCounter, w: Workload, rounds: number): Promise<void> {
  console.log(`points/s per round (CPU µs per msg of the measured process), ${fmt(w.msgs)} points a round:`);
  const f = await inOneNodeRed(floorFlow(), undefined, counter, w, rounds);
  show("(f) Node-RED alone", f);
  const least = await inOneNodeRed(leastGatewayFlow(broker.url), "tel", counter, w, rounds);
  show("least gateway node", least);
  const a = await inOneNodeRed(telemetryOutFlowWith(broker.url, { storeType: "memory", maxQueued: 10 * w.msgs }), "gw", counter, w, rounds);
  show("(a) telemetry-out", a);
  console.log(`a/f per round: ${a.map((x, i) => (x.rate / f[i].rate).toFixed(2)).join(", ")}; least/f: ${least.map((x, i) => (x.rate / f[i].rate).toFixed(2)).join(", ")}`);
  const d: Round[] = [];
  const leastDrain: Round[] = [];
  const disk: Round[] = [];
  const memory: Round[] = [];
  for (let r = 0; r < rounds; r++) {
    const dr = await runVariant("d", { broker, counter, workload: w, timeoutMs: 300000 });
    d.push({ rate: dr.pointsPerSecond });
    const l = await runDrainFloor(broker, counter, w, 300000);
    leastDrain.push({ rate: l.outRate, cpuUsPerMsg: l.cpuUsOut });
    const k = await runEngine("disk", broker, counter, w, 300000);
    disk.push({ rate: k.outRate, cpuUsPerMsg: k.cpuUsOut });
    const m = await runEngine("memory", broker, counter, w, 300000);
    memory.push({ rate: m.outRate, cpuUsPerMsg: m.cpuUsOut });
  }
  show("(d) raw mqtt.js, pre-batched", d);
  show("least drain from disk", leastDrain);
  show("disk store's drain", disk);
  show("memory store's drain", memory);
  const per = (xs: Round[]): string => xs.map((x, i) => (x.rate / d[i].rate).toFixed(2)).join(", ");
  console.log(`against d per round: least drain ${per(leastDrain)}; disk ${per(disk)}; memory ${per(memory)}`);
}

if (require.main === module) {
  runStandalone((broker, counter, w) => {
    const i = process.argv.indexOf("--rounds");
    return runRounds(broker, counter, w, i > 0 ? Number(process.argv[i + 1]) : 3);
  });
}
