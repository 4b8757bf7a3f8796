// The Modbus benchmark (issue 4): our modbus-source against node-red-contrib-modbus, both in a
// real Node-RED runtime, polling the same 200-register map over 5 units of one Modbus TCP
// server (bench/modbus-server.ts, its own process, answering after a fixed delay), side by side
// in one run. Two metrics, both counted by the server:
//   requests per poll cycle   requests served / full polls of the map (1 s poll period)
//   registers read per second registers served / s at the shortest poll period the client keeps
//                             up with: 1 ms first, then 2, 5, 10, 20, 50, 100 … for a client whose
//                             requests go unanswered or whose queue grows; in the first scenario
//                             every variant is measured at 1, 2, 5 and 10 ms and its best counts
// Issue 9 adds ours with an in-flight window of 8 (modbus-connection inFlight 8) and prints
//   modbus: ours(window 1) N regs/s, ours(window 8) N regs/s, contrib-modbus N regs/s
// for the first scenario (2 ms answers, requests answered concurrently); target: window 8 >= 2x
// contrib-modbus's best.
// Targets: >= 5x fewer requests and >= 3x registers/s than node-red-contrib-modbus as users
// configure it for typed values (one modbus-read per key); the friendlier one-read-per-block
// configuration is measured and reported too.
//   node dist/bench/modbus.js [--variants engine,ours,theirs-key,theirs-block]
//     [--scenarios 2,2s,0] (answer delay in ms; "s": the server works on one request at a time)
//     [--seconds 6] [--slow-seconds 4] [--fast-period 1] [--profile]
import fs from "fs";
import os from "os";
import path from "path";
import { planReads } from "../lib/modbus";
import { Child } from "./modbus-child";
import type { FlowNode, HostCounts, HostStart } from "./modbus-host";
import { oursHaveEditorFiles } from "./modbus-host";
import { UNITS, perBlockReads, perKeyReads, registersPerUnit, unitMap, type Read } from "./modbus-map";
import type { ServerConfig, ServerCounts } from "./modbus-server";
import { printSummary, summarise, type ProfileSummary } from "./profile";

export type Variant = "engine" | "ours" | "ours-w8" | "theirs-key" | "theirs-block";

export const LABELS: Record<Variant, string> = {
  engine: "ours, engine only (ModbusLine + 5 UnitPollers)",
  ours: "ours: modbus-connection + 5 modbus-source",
  "ours-w8": "ours, in-flight window 8 (inFlight 8)",
  "theirs-key": "contrib-modbus: 1 modbus-read per key",
  "theirs-block": "contrib-modbus: 1 modbus-read per block",
};

/** Longer poll periods tried in the throughput phase by a client that did not keep up. */
const SWEEP_MS = [5, 10, 20, 50, 100, 200, 500, 1000];
/** Periods every variant is measured at in the first scenario (the concurrent server). */
const SHORT_MS = [1, 2, 5, 10];
/** Issue 9: ours with an in-flight window of 8 against contrib-modbus's best, registers/s. */
const WINDOW_TARGET = 2;
const TARGET = { fewerRequests: 5, registersPerSecond: 3 };
const RESULTS = path.resolve(__dirname, "..", "..", "bench", "results");
const MAP_REGISTERS = registersPerUnit() * UNITS.length;

export interface Scenario extends ServerConfig {
  name: string;
}

export interface Options {
  variants: Variant[];
  scenarios: Scenario[];
  /** Measured window of the throughput phase. */
  seconds: number;
  /** Measured window of the 1 s phase. */
  slowSeconds: number;
  /** Poll period of the throughput phase (modbus-source's shortest is 10 ms). */
  fastPeriodMs: number;
  /** CPU-profile our Node-RED variant's throughput window (first scenario). */
  profile: boolean;
  log: (line: string) => void;
}

export interface Measurement {
  variant: Variant;
  label: string;
  periodMs: number;
  seconds: number;
  /** Poll results per full cycle of the map: 5 for ours (one per unit), one per modbus-read for theirs. */
  resultsPerCycle: number;
  cycles: number;
  requests: number;
  registers: number;
  /** Requests the configuration asks for per cycle (planner output, or number of modbus-read nodes). */
  plannedRequestsPerCycle: number;
  requestsPerCycle: number;
  /** Registers the server served per second (gap registers bridged by our planner included). */
  registersPerSecond: number;
  /** Map registers delivered per second: full cycles x 200 / s. */
  mapRegistersPerSecond: number;
  cyclesPerSecond: number;
  requestsPerSecond: number;
  /** contrib-modbus: requests waiting in its unit queues at the start/end of the window. */
  backlogStart: number | null;
  backlogEnd: number | null;
  skipped: number | null;
  failed: number | null;
  maxConcurrent: number;
  connections: number;
  rssMiB: number;
  /**
   * The client kept up: every request it sent came back as a poll result (requests per cycle
   * within 5% of the planned number) and its queue did not grow.
   */
  healthy: boolean;
}

export interface ScenarioResult {
  scenario: Scenario;
  slow: Measurement[];
  fast: Measurement[];
  ratios: Ratios;
}

export interface Ratios {
  /** theirs' requests per cycle / ours. */
  fewerRequestsVsKey: number | null;
  fewerRequestsVsBlock: number | null;
  /** ours' registers/s / theirs' (server-counted). */
  registersVsKey: number | null;
  registersVsBlock: number | null;
  /** ours' map registers/s / theirs'. */
  mapRegistersVsKey: number | null;
  mapRegistersVsBlock: number | null;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function defaultOptions(): Options {
  return {
    variants: ["engine", "ours", "ours-w8", "theirs-key", "theirs-block"],
    scenarios: parseScenarios("2,2s,0"),
    seconds: 6,
    slowSeconds: 4,
    fastPeriodMs: 1,
    profile: false,
    log: (l) => console.log(l),
  };
}

function parseScenarios(s: string): Scenario[] {
  return s.split(",").map((x) => {
    const m = /^(\d+(?:\.\d+)?)(s?)$/.exec(x.trim());
    if (!m) throw new Error(`scenario ${JSON.stringify(x)}: a delay in ms, optionally followed by s (serial server), e.g. 2 or 2s`);
    const delayMs = Number(m[1]);
    const serial = m[2] === "s";
    return { name: `${delayMs} ms answer delay, ${serial ? "one request at a time" : "requests answered concurrently"}`, delayMs, serial };
  });
}

// ---- flows -------------------------------------------------------------------------------------

function oursFlow(port: number, periodMs: number, inFlight = 1): FlowNode[] {
  const flows: FlowNode[] = [
    { id: "tab", type: "tab", label: "modbus bench" },
    {
      id: "conn", type: "modbus-connection", name: "", transport: "tcp", host: "127.0.0.1", port: String(port), path: "", baudRate: "9600",
      dataBits: "8", stopBits: "1", parity: "none", timeout: "1000", retries: "1", delay: "0", queueLimit: "100", reconnectMin: "1", reconnectMax: "30", dropAfterTimeouts: "0",
      ...(inFlight > 1 ? { inFlight: String(inFlight) } : {}),
    },
    { id: "count", type: "modbus-bench-counter", z: "tab", wires: [] },
  ];
  for (const u of UNITS) {
    flows.push({
      id: `src${u}`, type: "modbus-source", z: "tab", name: "", connection: "conn", device: `meter-${u}`, profile: "", unitId: String(u),
      period: String(periodMs / 1000), map: unitMap(), reportMode: "every-poll", deadband: "", reportPeriod: "", maxGap: "", maxRegisters: "", disconnectAfter: "0",
      wires: [["count"], [], [], []],
    });
  }
  return flows;
}

function theirsFlow(port: number, periodMs: number, reads: Read[]): FlowNode[] {
  // modbus-client with the editor's defaults (node-red-contrib-modbus 5.23.3 modbus-client.html)
  const flows: FlowNode[] = [
    { id: "tab", type: "tab", label: "modbus bench" },
    {
      id: "client", type: "modbus-client", name: "", clienttype: "tcp", bufferCommands: true, stateLogEnabled: false, queueLogEnabled: false, failureLogEnabled: true,
      tcpHost: "127.0.0.1", tcpPort: String(port), tcpType: "DEFAULT", serialPort: "/dev/ttyUSB", serialType: "RTU-BUFFERD", serialBaudrate: "9600", serialDatabits: "8",
      serialStopbits: "1", serialParity: "none", serialConnectionDelay: "100", serialAsciiResponseStartDelimiter: "0x3A", unit_id: "1", commandDelay: "1",
      clientTimeout: "1000", reconnectOnTimeout: true, reconnectTimeout: "2000", parallelUnitIdsAllowed: true,
    },
    { id: "count", type: "modbus-bench-counter", z: "tab", wires: [] },
  ];
  let i = 0;
  for (const u of UNITS) {
    for (const r of reads) {
      flows.push({
        id: `read${++i}`, type: "modbus-read", z: "tab", name: "", topic: "", showStatusActivities: false, logIOActivities: false, showErrors: false,
        unitid: String(u), dataType: r.area === "holding" ? "HoldingRegister" : "InputRegister", adr: String(r.address), quantity: String(r.quantity),
        rate: String(periodMs), rateUnit: "ms", delayOnStart: false, startDelayTime: "", server: "client", useIOFile: false, ioFile: "", useIOForPayload: false,
        emptyMsgOnFail: false, wires: [["count"], []],
      });
    }
  }
  return flows;
}

function plannedRequests(v: Variant): number {
  if (v === "theirs-key") return perKeyReads().length * UNITS.length;
  if (v === "theirs-block") return perBlockReads().length * UNITS.length;
  return planReads(unitMap()).plan.requests.length * UNITS.length;
}

function resultsPerCycle(v: Variant): number {
  if (v === "theirs-key") return perKeyReads().length * UNITS.length;
  if (v === "theirs-block") return perBlockReads().length * UNITS.length;
  return UNITS.length;
}

function hostStart(v: Variant, port: number, periodMs: number): HostStart {
  if (v === "engine") return { mode: "engine", port, periodMs };
  if (v === "ours") return { mode: "node-red", flows: oursFlow(port, periodMs) };
  if (v === "ours-w8") return { mode: "node-red", flows: oursFlow(port, periodMs, 8) };
  return { mode: "node-red", flows: theirsFlow(port, periodMs, v === "theirs-key" ? perKeyReads() : perBlockReads()) };
}

// ---- one measurement ---------------------------------------------------------------------------

const sum = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);

async function measure(server: Child, port: number, v: Variant, periodMs: number, seconds: number, profileFile?: string): Promise<Measurement> {
  const { child: host } = await Child.start<number>(path.join(__dirname, "modbus-host.js"), `modbus bench host (${v})`, "ready");
  try {
    await host.call({ cmd: "start", args: hostStart(v, port, periodMs) });
    const perCycle = resultsPerCycle(v);
    // warm-up: connected and one full cycle delivered (contrib-modbus connects 500 ms after deploy)
    const warmEnd = Date.now() + 30000;
    for (;;) {
      const c = await host.call<HostCounts>({ cmd: "counts" });
      if (c.msgs >= perCycle) break;
      if (Date.now() > warmEnd) throw new Error(`${LABELS[v]}: fewer than ${perCycle} poll results within 30 s (${c.msgs})`);
      await sleep(50);
    }
    await sleep(Math.min(periodMs, 1000));
    await server.call({ cmd: "resetPeak" });
    if (profileFile) await host.call({ cmd: "profileStart" });
    // A snapshot of both counters. With a long poll period, taken in a quiet moment between two
    // cycles (nothing served for 100 ms), so no cycle is cut in half at either end of the window;
    // at the throughput period the window is long against the cut.
    const snapshot = async (): Promise<[HostCounts, ServerCounts]> => {
      const both = (): Promise<[HostCounts, ServerCounts]> => Promise.all([host.call<HostCounts>({ cmd: "counts" }), server.call<ServerCounts>({ cmd: "counts" })]);
      if (periodMs < 500) return both();
      let prev = await both();
      for (const end = Date.now() + 2 * periodMs; Date.now() < end; ) {
        await sleep(100);
        const cur = await both();
        if (sum(cur[1].requests) === sum(prev[1].requests) && cur[0].msgs === prev[0].msgs) return cur;
        prev = cur;
      }
      return prev;
    };
    const [h0, s0] = await snapshot();
    const t0 = performance.now();
    await sleep(seconds * 1000);
    const [h1, s1] = await snapshot();
    const dt = (performance.now() - t0) / 1000;
    if (profileFile) await host.call({ cmd: "profileStop", file: profileFile });
    const requests = sum(s1.requests) - sum(s0.requests);
    const registers = sum(s1.registers) - sum(s0.registers);
    const cycles = (h1.msgs - h0.msgs) / perCycle;
    const m: Measurement = {
      variant: v,
      label: LABELS[v],
      periodMs,
      seconds: dt,
      resultsPerCycle: perCycle,
      cycles,
      requests,
      registers,
      plannedRequestsPerCycle: plannedRequests(v),
      requestsPerCycle: cycles > 0 ? requests / cycles : NaN,
      registersPerSecond: registers / dt,
      mapRegistersPerSecond: (cycles * MAP_REGISTERS) / dt,
      cyclesPerSecond: cycles / dt,
      requestsPerSecond: requests / dt,
      backlogStart: h0.backlog,
      backlogEnd: h1.backlog,
      skipped: h1.skipped === null || h0.skipped === null ? null : h1.skipped - h0.skipped,
      failed: h1.failed === null || h0.failed === null ? null : h1.failed - h0.failed,
      maxConcurrent: s1.maxConcurrent,
      connections: s1.connections - s0.connections,
      rssMiB: h1.rss / 1024 / 1024,
      healthy: false,
    };
    m.healthy = cycles > 0 && m.requestsPerCycle <= 1.05 * m.plannedRequestsPerCycle && (h1.backlog ?? 0) <= (h0.backlog ?? 0) + perCycle;
    return m;
  } finally {
    await host.stop();
  }
}

// ---- report ------------------------------------------------------------------------------------

const fmt = (n: number, d = 0): string => (Number.isFinite(n) ? n.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d }) : "n/a");
const x = (r: number | null): string => (r === null ? "n/a" : `${r.toFixed(1)}x`);

function oursOf(ms: Measurement[]): Variant {
  return ms.some((m) => m.variant === "ours") ? "ours" : "engine";
}

/** A variant's throughput figure: its healthy measurement with the most registers/s (else its best). */
export function bestOf(ms: Measurement[], v: Variant): Measurement | undefined {
  const mine = ms.filter((m) => m.variant === v);
  const pool = mine.some((m) => m.healthy) ? mine.filter((m) => m.healthy) : mine;
  return pool.sort((a, b) => b.registersPerSecond - a.registersPerSecond)[0];
}

function ratios(slow: Measurement[], fast: Measurement[]): Ratios {
  const div = (a: number | undefined, b: number | undefined): number | null => (a === undefined || b === undefined || !(b > 0) || !Number.isFinite(a) ? null : a / b);
  const so = slow.find((m) => m.variant === oursOf(slow));
  const fo = bestOf(fast, oursOf(fast));
  const s = (v: Variant): Measurement | undefined => slow.find((m) => m.variant === v);
  const f = (v: Variant): Measurement | undefined => bestOf(fast, v);
  return {
    fewerRequestsVsKey: div(s("theirs-key")?.requestsPerCycle, so?.requestsPerCycle),
    fewerRequestsVsBlock: div(s("theirs-block")?.requestsPerCycle, so?.requestsPerCycle),
    registersVsKey: div(fo?.registersPerSecond, f("theirs-key")?.registersPerSecond),
    registersVsBlock: div(fo?.registersPerSecond, f("theirs-block")?.registersPerSecond),
    mapRegistersVsKey: div(fo?.mapRegistersPerSecond, f("theirs-key")?.mapRegistersPerSecond),
    mapRegistersVsBlock: div(fo?.mapRegistersPerSecond, f("theirs-block")?.mapRegistersPerSecond),
  };
}

function printScenario(r: ScenarioResult, log: (l: string) => void): void {
  log("");
  log(`== ${r.scenario.name}`);
  const head = "variant                                           ok  period  req/cycle (planned)  cycles/s    req/s   registers/s  map regs/s  backlog      skipped  peak";
  log(head);
  for (const m of [...r.slow, ...r.fast]) {
    const backlog = m.backlogEnd === null ? "-" : `${fmt(m.backlogStart ?? 0)}→${fmt(m.backlogEnd)}`;
    log(
      `${m.label.padEnd(50)} ${m.healthy ? "✓" : "✗"} ${`${m.periodMs} ms`.padStart(7)} ${fmt(m.requestsPerCycle, 1).padStart(10)} ${`(${m.plannedRequestsPerCycle})`.padStart(9)} ` +
        `${fmt(m.cyclesPerSecond, 1).padStart(9)} ${fmt(m.requestsPerSecond).padStart(8)} ${fmt(m.registersPerSecond).padStart(12)} ${fmt(m.mapRegistersPerSecond).padStart(11)} ` +
        `${backlog.padStart(12)} ${(m.skipped === null ? "-" : fmt(m.skipped)).padStart(8)} ${String(m.maxConcurrent).padStart(5)}`,
    );
  }
  const q = r.ratios;
  const met = (v: number | null, t: number): string => (v === null ? "" : v >= t ? " (target met)" : " (target NOT met)");
  log(`fewer requests per cycle:  vs per-key ${x(q.fewerRequestsVsKey)}${met(q.fewerRequestsVsKey, TARGET.fewerRequests)}   vs per-block ${x(q.fewerRequestsVsBlock)}   [target >= ${TARGET.fewerRequests}x vs per-key]`);
  log(`registers/s (server):      vs per-key ${x(q.registersVsKey)}${met(q.registersVsKey, TARGET.registersPerSecond)}   vs per-block ${x(q.registersVsBlock)}   [target >= ${TARGET.registersPerSecond}x vs per-key]`);
  log(`map registers/s:           vs per-key ${x(q.mapRegistersVsKey)}   vs per-block ${x(q.mapRegistersVsBlock)}`);
  log("(throughput ratios take each variant at the shortest period it kept up with (✓); ✗: requests went unanswered or the queue grew)");
}

/** The in-flight window's figures (issue 9) from a scenario: ours at window 1 and 8, contrib-modbus's best. */
export function windowFigures(r: ScenarioResult | undefined): { w1?: number; w8?: number; theirs?: number; theirsVariant?: Variant; fewerRequests?: number } {
  if (!r) return {};
  const best = (v: Variant): number | undefined => bestOf(r.fast, v)?.registersPerSecond;
  const theirs = (["theirs-key", "theirs-block"] as Variant[]).map((v) => ({ v, n: best(v) })).filter((t) => t.n !== undefined).sort((a, b) => (b.n as number) - (a.n as number))[0];
  const w8slow = r.slow.find((m) => m.variant === "ours-w8")?.requestsPerCycle;
  const keySlow = r.slow.find((m) => m.variant === "theirs-key")?.requestsPerCycle;
  return { w1: best("ours"), w8: best("ours-w8"), theirs: theirs?.n, theirsVariant: theirs?.v, fewerRequests: w8slow && keySlow ? keySlow / w8slow : undefined };
}

function windowLine(r: ScenarioResult | undefined): string[] | undefined {
  const f = windowFigures(r);
  if (f.w8 === undefined || f.theirs === undefined) return undefined;
  const n = (v: number | undefined): string => (v === undefined ? "n/a" : fmt(v));
  const ratio = f.w8 / f.theirs;
  return [
    `modbus: ours(window 1) ${n(f.w1)} regs/s, ours(window 8) ${n(f.w8)} regs/s, contrib-modbus ${n(f.theirs)} regs/s`,
    `  window 8 vs contrib-modbus (${f.theirsVariant === "theirs-key" ? "per key" : "per block"}, its best): ${ratio.toFixed(2)}x ${ratio >= WINDOW_TARGET ? "(target met)" : "(target NOT met)"} [target >= ${WINDOW_TARGET}x]; ` +
      `requests per cycle ${f.fewerRequests === undefined ? "n/a" : `${f.fewerRequests.toFixed(1)}x`} fewer than contrib-modbus per key [target >= ${TARGET.fewerRequests}x]`,
  ];
}

function versions(): Record<string, string> {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const v = (p: string): string => (require(`${p}/package.json`) as { version: string }).version;
  return {
    node: process.version,
    nodeRed: v("node-red"),
    nodeRedContribModbus: v("node-red-contrib-modbus"),
    modbusSerial: v("modbus-serial"),
    cpu: `${os.cpus().length} x ${os.cpus()[0]?.model ?? "?"}`,
    os: `${os.type()} ${os.release()}`,
  };
}

// ---- entry points ------------------------------------------------------------------------------

/** Runs the whole comparison; returns the headline figures (first scenario) for bench/run.ts. */
export async function runModbusBench(opts: Partial<Options> = {}): Promise<Record<string, number>> {
  const o: Options = { ...defaultOptions(), ...opts };
  const log = o.log;
  const env = versions();
  fs.mkdirSync(RESULTS, { recursive: true });
  const planned = planReads(unitMap()).plan.requests.map((r) => `${r.area} ${r.address}+${r.count}`).join(", ");
  log(`modbus bench: ${MAP_REGISTERS} registers (${unitMap().length} keys per unit) over ${UNITS.length} units of one Modbus TCP server (modbus-serial ${env.modbusSerial} ServerTCP, own process)`);
  log(`  ours plans per unit: ${planned}; contrib-modbus ${env.nodeRedContribModbus}: ${perKeyReads().length} reads per unit per key, ${perBlockReads().length} per block`);
  log(`  Node-RED ${env.nodeRed}, Node ${env.node}, ${env.cpu}; ours loaded ${oursHaveEditorFiles() ? "as installed (package nodes)" : "from dist/nodes through stub editor files (no .html yet)"}`);
  log(`  phases: ${o.slowSeconds} s at 1 s poll period (requests per cycle), ${o.seconds} s at ${o.fastPeriodMs} ms (throughput); a fresh process per measurement`);
  const loadBefore = os.loadavg();
  if (loadBefore[0] > os.cpus().length * 0.5) log(`  note: load average ${loadBefore.map((l) => l.toFixed(2)).join(" ")} on ${os.cpus().length} CPUs: other work competes with the benchmark`);

  const { child: server, value: port } = await Child.start<number>(path.join(__dirname, "modbus-server.js"), "modbus bench server", "ready");
  const scenarios: ScenarioResult[] = [];
  const profiles: ProfileSummary[] = [];
  try {
    for (const [si, sc] of o.scenarios.entries()) {
      log(`\n${sc.name}:`);
      await server.call({ cmd: "config", config: { delayMs: sc.delayMs, serial: sc.serial } });
      const slow: Measurement[] = [];
      const fast: Measurement[] = [];
      const note = (m: Measurement): void =>
        log(`  ${`${m.periodMs} ms`.padStart(7)}  ${m.label.padEnd(50)} ${fmt(m.requestsPerCycle, 1).padStart(7)} req/cycle ${fmt(m.registersPerSecond).padStart(8)} registers/s${m.healthy ? "" : "  (did not keep up)"}`);
      for (const v of o.variants) {
        const m = await measure(server, port, v, 1000, o.slowSeconds);
        note(m);
        slow.push(m);
      }
      for (const v of o.variants) {
        // the shortest period first; a client that does not keep up is tried again at longer ones.
        // In the first scenario every variant is measured at each of the short periods and its best
        // healthy one counts: a client can do worse at 1 ms than at 5 ms (contrib-modbus does).
        const explore = si === 0 ? SHORT_MS.filter((p) => p >= o.fastPeriodMs) : [];
        const periods = [...new Set([...explore, o.fastPeriodMs, ...SWEEP_MS.filter((p) => p > o.fastPeriodMs)])].sort((a, b) => a - b);
        for (const periodMs of periods) {
          const profileFile = o.profile && si === 0 && v.startsWith("ours") ? path.join(RESULTS, "modbus-ours.cpuprofile") : undefined;
          const m = await measure(server, port, v, periodMs, o.seconds, profileFile);
          note(m);
          fast.push(m);
          if (profileFile) profiles.push(summarise(profileFile));
          if (m.healthy && periodMs >= Math.max(...explore, 0)) break;
        }
      }
      scenarios.push({ scenario: sc, slow, fast, ratios: ratios(slow, fast) });
    }
  } finally {
    await server.stop();
  }

  for (const s of scenarios) printScenario(s, log);
  const headlineLine = windowLine(scenarios[0]);
  if (headlineLine) {
    log("");
    for (const l of headlineLine) log(l);
  }
  for (const p of profiles) {
    log("");
    printSummary(p, log);
  }
  const out = path.join(RESULTS, "modbus.json");
  fs.writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), env, mapRegisters: MAP_REGISTERS, units: UNITS, map: unitMap(), targets: TARGET, options: { ...o, log: undefined }, scenarios, profiles, load: { before: loadBefore, after: os.loadavg() } }, null, 2) + "\n");
  log(`\nresults: ${path.relative(process.cwd(), out)}`);

  const first = scenarios[0];
  const headline: Record<string, number> = {};
  if (first) {
    for (const [k, val] of Object.entries(first.ratios)) if (val !== null) headline[`modbus.${k}`] = val;
    for (const m of first.slow) headline[`modbus.${m.variant}.requestsPerCycle`] = m.requestsPerCycle;
    const wf = windowFigures(first);
    if (wf.w8 !== undefined && wf.theirs !== undefined) headline["modbus.window8VsContrib"] = wf.w8 / wf.theirs;
    for (const v of o.variants) {
      const m = bestOf(first.fast, v);
      if (m) {
        headline[`modbus.${v}.registersPerSecond`] = m.registersPerSecond;
        headline[`modbus.${v}.periodMs`] = m.periodMs;
      }
    }
  }
  return headline;
}

function parseArgs(argv: string[]): Partial<Options> {
  const o: Partial<Options> = {};
  for (let i = 0; i < argv.length; i++) {
    const next = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${argv[i - 1]} needs a value`);
      return v;
    };
    const num = (): number => {
      const n = Number(next());
      if (!(Number.isFinite(n) && n > 0)) throw new Error(`${argv[i - 1]} needs a positive number`);
      return n;
    };
    switch (argv[i]) {
      case "--variants":
        o.variants = next().split(",").map((v) => {
          if (!(v in LABELS)) throw new Error(`unknown variant ${v} (${Object.keys(LABELS).join(", ")})`);
          return v as Variant;
        });
        break;
      case "--scenarios":
        o.scenarios = parseScenarios(next());
        break;
      case "--seconds":
        o.seconds = num();
        break;
      case "--slow-seconds":
        o.slowSeconds = num();
        break;
      case "--fast-period":
        o.fastPeriodMs = num();
        break;
      case "--profile":
        o.profile = true;
        break;
      default:
        throw new Error(`unknown option ${argv[i]}`);
    }
  }
  return o;
}

if (require.main === module) {
  runModbusBench(parseArgs(process.argv.slice(2))).then(
    () => process.exit(0),
    (err: Error) => {
      console.error(err.stack ?? err);
      process.exit(1);
    },
  );
}
