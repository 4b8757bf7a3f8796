// npm run bench: the benchmark of issues 2 and 14. One run, the variants one after the other
// through one mosquitto at QoS 1, a backlog drained from each store, then the RSS of Node-RED
// with 100,000 connected devices. Issue 14's four lines are printed last, as ratios of one run.
//   npm run bench -- [--variants f,a,b,c,d,m] [--msgs 200000] [--devices 100] [--chunk 1000]
//                    [--timeout 300] [--rss-devices 100000] [--no-rss] [--profile [f,a,b,m]] [--repeat 1]
//                    [--no-backlog] [--no-store] [--no-modbus] [--no-drain] [--no-floors]
import { boundNote, measureBounds, type Bounds } from "./floor-bounds";
import { measureJsonFloor } from "./json-floor";
import { execFileSync } from "child_process";
import fs from "fs";
import os from "os";
import path from "path";
import { PointCounter } from "./counter";
import { MOSQUITTO, startMosquitto } from "./mosquitto";
import { printSummary, summarise, type ProfileSummary } from "./profile";
import { measureRss, type RssResult } from "./rss";
import { runEngine, type EngineRun } from "./store-engine";
import { LABELS, MULTI_POINTS, runVariant, type Variant, type VariantResult } from "./telemetry";
import { DEFAULT_WORKLOAD, type Workload } from "./workload";

/** Issue 14's targets: telemetry-out against Node-RED's floor and the wire's limit; RSS of 100,000 devices. */
const TARGET = { af: 0.5, md: 0.5, drainD: 0.5, rssMiB: 100 };
const RESULTS = path.resolve(__dirname, "..", "..", "bench", "results");
const MiB = 1024 * 1024;

interface Args {
  variants: Variant[];
  workload: Workload;
  timeoutMs: number;
  rssDevices: number;
  rss: boolean;
  /** Variants whose measured window is CPU-profiled (f, a, b and/or m). */
  profile: Variant[];
  /** Rounds of all variants, interleaved; each variant reports its median round. */
  repeat: number;
  /** Then the Modbus benchmark (bench/modbus.ts); off with --no-modbus. */
  modbus: boolean;
  /** Then the backlog drain under rate limits (bench/drain.ts, about two minutes); off with --no-drain. */
  drain: boolean;
  /** The disk/memory store benchmark of issue 8 (bench/store.ts); off with --no-store. */
  store: boolean;
  /** A backlog of `msgs` points drained from the memory and the disk store (bench/store-engine.ts); off with --no-backlog. */
  backlog: boolean;
  /** The least implementations beside the lines (bench/floor-bounds.ts, about a minute); off with --no-floors. */
  floors: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { variants: ["f", "a", "b", "c", "d", "m"], workload: { ...DEFAULT_WORKLOAD }, timeoutMs: 300000, rssDevices: 100000, rss: true, profile: [], repeat: 1, modbus: true, drain: true, store: true, backlog: true, floors: true };
  for (let i = 0; i < argv.length; i++) {
    const next = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${argv[i - 1]} needs a value`);
      return v;
    };
    const num = (): number => {
      const n = Number(next());
      if (!Number.isFinite(n) || n <= 0) throw new Error(`${argv[i - 1]} needs a positive number`);
      return n;
    };
    switch (argv[i]) {
      case "--variants":
        a.variants = next().split(",").map((v) => {
          if (!(v in LABELS)) throw new Error(`unknown variant ${v} (f, a, b, c, d, m)`);
          return v as Variant;
        });
        break;
      case "--msgs":
        a.workload.msgs = num();
        break;
      case "--devices":
        a.workload.devices = num();
        break;
      case "--chunk":
        a.workload.chunk = num();
        break;
      case "--timeout":
        a.timeoutMs = num() * 1000;
        break;
      case "--rss-devices":
        a.rssDevices = num();
        break;
      case "--repeat":
        a.repeat = Math.round(num());
        break;
      case "--no-modbus":
        a.modbus = false;
        break;
      case "--no-drain":
        a.drain = false;
        break;
      case "--no-backlog":
        a.backlog = false;
        break;
      case "--no-store":
        a.store = false;
        break;
      case "--no-floors":
        a.floors = false;
        break;
      case "--no-rss":
        a.rss = false;
        break;
      case "--profile":
        a.profile = argv[i + 1] && !argv[i + 1].startsWith("--") ? (next().split(",") as Variant[]) : ["a"];
        if (a.profile.some((v) => v !== "f" && v !== "a" && v !== "b" && v !== "m")) throw new Error("--profile takes f, a, b and/or m (the Node-RED variants)");
        break;
      default:
        throw new Error(`unknown option ${argv[i]}`);
    }
  }
  return a;
}

function versions(): Record<string, string> {
  let mosquitto = "unknown";
  try {
    execFileSync(MOSQUITTO, ["-h"], { encoding: "utf8" });
  } catch (err) {
    // mosquitto -h exits non-zero; its version is on the first line of stdout
    mosquitto = String((err as { stdout?: string }).stdout ?? "").split("\n")[0].trim() || mosquitto;
  }
  /* eslint-disable @typescript-eslint/no-require-imports */
  return {
    node: process.version,
    nodeRed: (require("node-red/package.json") as { version: string }).version,
    mqtt: (require("mqtt/package.json") as { version: string }).version,
    mosquitto,
    cpu: `${os.cpus().length} x ${os.cpus()[0]?.model ?? "?"}`,
    os: `${os.type()} ${os.release()}`,
  };
}

const fmt = (n: number): string => Math.round(n).toLocaleString("en-US");

function printTable(results: VariantResult[]): void {
  console.log("");
  console.log("variant                                        points/s    points   publishes   seconds  inject s  errors  CPU µs/msg");
  for (const r of results) {
    const pps = r.timedOut ? `TIMEOUT` : fmt(r.pointsPerSecond);
    console.log(
      `(${r.variant}) ${r.label.padEnd(42)} ${pps.padStart(9)} ${fmt(r.points).padStart(9)} ${fmt(r.publishes).padStart(11)} ${r.seconds.toFixed(2).padStart(9)} ${r.injectSeconds.toFixed(2).padStart(9)} ${String(r.errors).padStart(7)} ${(r.cpuUsPerMsg === undefined ? "-" : r.cpuUsPerMsg.toFixed(1)).padStart(11)}`,
    );
    if (r.timedOut) console.log(`    timed out: ${r.points} of ${r.expected} points counted${r.firstError ? `; first error: ${r.firstError}` : ""}`);
    else if (r.firstError) console.log(`    first error: ${r.firstError}`);
  }
  console.log("CPU µs/msg: CPU time of the Node-RED process per msg (for m, a msg carries 100 points)");
}

/** The round with the median rate (a timed-out round counts as the slowest). */
function median(rs: VariantResult[]): VariantResult {
  const sorted = [...rs].sort((x, y) => x.pointsPerSecond - y.pointsPerSecond);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

/** CPU µs per msg of a Node-RED variant over the floor's: what the nodes of its flow cost. */
function overFloor(results: VariantResult[], v: Variant): number | null {
  const f = results.find((r) => r.variant === "f")?.cpuUsPerMsg;
  const x = results.find((r) => r.variant === v)?.cpuUsPerMsg;
  return f === undefined || x === undefined ? null : x - f;
}

function ratio(results: VariantResult[], x: Variant, y: Variant): number | null {
  const a = results.find((r) => r.variant === x);
  const b = results.find((r) => r.variant === y);
  if (!a || !b || a.timedOut || b.timedOut || b.pointsPerSecond === 0) return null;
  return a.pointsPerSecond / b.pointsPerSecond;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const w = args.workload;
  const env = versions();
  const loadBefore = os.loadavg();
  if (loadBefore[0] > os.cpus().length * 0.5) console.log(`note: load average ${loadBefore.map((l) => l.toFixed(2)).join(" ")} on ${os.cpus().length} CPUs: other work competes with the benchmark`);
  console.log(`bench: ${fmt(w.msgs)} msgs, ${w.devices} devices, 2 values each, QoS 1 through ${env.mosquitto}; Node-RED ${env.nodeRed}, mqtt.js ${env.mqtt}, Node ${env.node}, ${env.cpu}`);
  fs.mkdirSync(RESULTS, { recursive: true });
  const broker = await startMosquitto();
  const counter = await PointCounter.connect(broker.url);
  const rounds: VariantResult[] = [];
  const backlogs: Record<"memory" | "disk", EngineRun[]> = { memory: [], disk: [] };
  let rss: RssResult | undefined;
  let bounds: Bounds | undefined;
  const profiles: Partial<Record<Variant, ProfileSummary>> = {};
  try {
    for (let round = 1; round <= args.repeat; round++) {
      if (args.repeat > 1) console.log(`round ${round} of ${args.repeat}`);
      for (const v of args.variants) {
        const cpuProfile = args.profile.includes(v) && round === 1 ? path.join(RESULTS, `profile-${v}.cpuprofile`) : undefined;
        process.stdout.write(`(${v}) ${LABELS[v]} … `);
        const r = await runVariant(v, { broker, counter, workload: w, timeoutMs: args.timeoutMs, cpuProfile });
        console.log(r.timedOut ? `timed out (${fmt(r.points)} points)` : `${fmt(r.pointsPerSecond)} points/s`);
        rounds.push(r);
        if (cpuProfile) profiles[v] = summarise(cpuProfile);
      }
      if (args.backlog) {
        for (const kind of ["memory", "disk"] as const) {
          process.stdout.write(`(backlog) ${fmt(w.msgs)} points waiting in the ${kind} store, drained … `);
          const r = await runEngine(kind, broker, counter, w, args.timeoutMs);
          console.log(r.timedOut ? "timed out" : `${fmt(r.outRate)} points/s${r.errors ? `, ${r.errors} errors` : ""}`);
          backlogs[kind].push(r);
        }
      }
    }
    if (args.floors && (args.variants.includes("a") || args.variants.includes("m"))) {
      process.stdout.write("(floors) the least gateway node, 1 and 100 points per msg, and the least drain from disk … ");
      bounds = await measureBounds(broker, counter, w, args.timeoutMs);
      console.log(`${fmt(bounds.least)}, ${fmt(bounds.leastM)} and ${fmt(bounds.leastDrain)} points/s`);
    }
    if (args.store) await (await import("./store")).runStoreBench(broker, counter, w, args.timeoutMs); // issue 8: disk store, kill -9
    if (args.rss) {
      process.stdout.write(`RSS with ${fmt(args.rssDevices)} connected devices … `);
      rss = await measureRss(broker, args.rssDevices, args.timeoutMs);
      console.log("done");
    }
  } finally {
    await counter.close();
    await broker.stop();
  }

  const results = args.variants.map((v) => median(rounds.filter((r) => r.variant === v)));
  if (args.repeat > 1) console.log(`\nmedian of ${args.repeat} rounds per variant:`);
  printTable(results);
  const ab = ratio(results, "a", "b");
  const ad = ratio(results, "a", "d");
  const fb = ratio(results, "f", "b");
  const fd = ratio(results, "f", "d");
  const af = ratio(results, "a", "f");
  const md = ratio(results, "m", "d");
  const costA = overFloor(results, "a");
  const costB = overFloor(results, "b");
  const costM = overFloor(results, "m");
  console.log("");
  const others = [["a/b", ab], ["a/d", ad], ["f/d", fd]].filter(([, x]) => x !== null).map(([k, x]) => `${k} = ${(x as number).toFixed(2)}`);
  if (others.length) console.log(`other ratios: ${others.join(", ")}`);
  if (costA !== null || costB !== null || costM !== null) {
    const parts = [costA === null ? "" : `a +${costA.toFixed(1)} µs`, costB === null ? "" : `b +${costB.toFixed(1)} µs`, costM === null ? "" : `m +${(costM / MULTI_POINTS).toFixed(2)} µs per point`];
    console.log(`CPU of the Node-RED process per msg above the floor (f): ${parts.filter(Boolean).join(", ")}`);
  }
  const d = results.find((r) => r.variant === "d");
  const drain: Partial<Record<"memory" | "disk", number | null>> = {};
  for (const kind of ["memory", "disk"] as const) {
    const runs = backlogs[kind];
    if (runs.length === 0) continue;
    const r = [...runs].sort((x, y) => x.outRate - y.outRate)[Math.floor((runs.length - 1) / 2)];
    drain[kind] = d && !d.timedOut && !r.timedOut && d.pointsPerSecond > 0 ? r.outRate / d.pointsPerSecond : null;
  }
  // Issue 14's four lines.
  console.log("");
  const line = (name: string, x: number | null | undefined, target: number, what: string, bound: number | null = null): void => {
    if (x === undefined) return;
    console.log(`${name} = ${x === null ? "-" : x.toFixed(2)}  (target ≥ ${target}: ${x !== null && x >= target ? "met" : "NOT met"}; ${what}${boundNote(bound, target)})`);
  };
  const f = results.find((r) => r.variant === "f");
  const of = (rate: number | undefined, ref: VariantResult | undefined): number | null => (rate && ref && !ref.timedOut && ref.pointsPerSecond > 0 ? rate / ref.pointsPerSecond : null);
  line("a/f", af, TARGET.af, "telemetry-out, one point per msg, against Node-RED alone with a no-op node", of(bounds?.least, f));
  line("m/d", md, TARGET.md, `telemetry-out, ${MULTI_POINTS} points per msg, against raw mqtt.js pre-batched`, of(bounds?.leastM, d));
  line("drain/d", drain.memory, TARGET.drainD, `memory store: ${fmt(w.msgs)} points waiting, no rate limit, against d`);
  line("drain/d", drain.disk, TARGET.drainD, `disk store: ${fmt(w.msgs)} points waiting, no rate limit, against d`, of(bounds?.leastDrain, d));
  if (md !== undefined && d && d.pointsPerSecond > 0) {
    const floor = measureJsonFloor(w, MULTI_POINTS);
    const ceiling = 1e6 / floor.serialiseUs / d.pointsPerSecond;
    console.log(
      `    floor of m: building its payloads and serialising them once (JSON.stringify + Buffer.from) costs ${floor.serialiseUs.toFixed(2)} µs per point ` +
        `(${floor.buildUs.toFixed(2)} of it building); with nothing else, m/d could reach ${ceiling.toFixed(2)} on one core`,
    );
  }
  if (rss) {
    const dm = rss.rssDelta / MiB;
    console.log(
      `RSS with ${fmt(rss.registry)} connected devices: +${dm.toFixed(1)} MiB above idle (target ≤ ${TARGET.rssMiB} MiB: ${dm <= TARGET.rssMiB && rss.registry >= rss.devices ? "met" : "NOT met"}; ` +
        `idle ${(rss.idle.rss / MiB).toFixed(1)} MiB, loaded ${(rss.loaded.rss / MiB).toFixed(1)} MiB, heap used +${(rss.heapDelta / MiB).toFixed(1)} MiB, ` +
        `${fmt(rss.done)} msgs done in ${rss.seconds.toFixed(2)} s, ${rss.errors} errors${rss.firstError ? ` (${rss.firstError})` : ""})`,
    );
  }
  for (const p of Object.values(profiles)) {
    console.log("");
    printSummary(p);
  }
  const out = path.join(RESULTS, "latest.json");
  const json = { date: new Date().toISOString(), env, workload: w, results, ratios: { af, md, drainMemory: drain.memory, drainDisk: drain.disk, ab, ad, fb, fd }, bounds, cpuAboveFloorUs: { a: costA, b: costB, m: costM }, backlogs, targets: TARGET, rounds: args.repeat > 1 ? rounds : undefined, rss, profiles, load: { before: loadBefore, after: os.loadavg() } };
  fs.writeFileSync(out, JSON.stringify(json, null, 2) + "\n");
  console.log(`\nresults: ${path.relative(process.cwd(), out)}`);
  if (args.drain) {
    console.log("\n--- a backlog drained under rate limits (issue 7) ---");
    const { runDrain, printDrain } = await import("./drain");
    printDrain(await runDrain());
  }
  if (args.modbus) {
    console.log("\n--- Modbus: modbus-source against node-red-contrib-modbus (issue 4) ---");
    await (await import("./modbus")).runModbusBench();
  }
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(err.stack ?? err);
    process.exit(1);
  },
);
