// Child process entry: one embedded Node-RED runtime (require("node-red"), RED.init + start)
// with this package loaded the way Node-RED loads an installed module, driven over IPC by
// bench/nodered.ts. A fresh process per variant, so that no variant inherits another's heap.
import fs from "fs";
import http from "http";
import { Session } from "inspector";
import path from "path";
import { BENCH_NODES_HTML, type SinkNode } from "./bench-node-types";
import { now } from "./clock";
import type { FlowNode } from "./flows";
import type { Workload } from "./workload";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const RED = require("node-red") as {
  init(server: http.Server, settings: Record<string, unknown>): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  nodes: { getNode(id: string): unknown };
  hooks: { add(name: string, hook: (event: { node: { id: string }; error?: unknown }) => void): void };
};

/**
 * telemetry-out's msgs done without an error, counted by Node-RED's onComplete hook: a Complete
 * node would clone every msg it is given (about 4.5 µs a msg by profile), a cost of the counting,
 * not of the gateway.
 */
let completed = 0;

const PACKAGE_ROOT = path.resolve(__dirname, "..", "..");

export interface StartArgs {
  userDir: string;
  flows: FlowNode[];
  credentials: Record<string, unknown>;
  logLevel?: string;
}

export interface Memory {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

export interface Stats {
  memory: Memory;
  /** CPU time of this process so far (user + system), µs. */
  cpuUs: number;
  registry: number | null;
  outbox: number | null;
  errors: { received: number; errors: number; firstError?: string } | null;
  done: number | null;
}

type EventNode = { on(event: string, f: (...a: unknown[]) => void): void; once(event: string, f: (...a: unknown[]) => void): void; receive(msg: unknown): void };
type Probe = { connected?: boolean; session?: () => { connected: boolean; registry: { size: number }; outbox: { size: number } } };

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function node<T>(id: string): T | null {
  return (RED.nodes.getNode(id) as T | null) ?? null;
}

function session(): ReturnType<NonNullable<Probe["session"]>> | null {
  const gw = node<Probe>("gw");
  try {
    return gw?.session ? gw.session() : null;
  } catch {
    return null;
  }
}

function memory(): Memory {
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers };
}

function stats(): Stats {
  const s = session();
  const errors = node<SinkNode>("errors");
  // the floor's flow counts in its own sink; telemetry-out's done msgs are counted by the hook
  const sink = node<SinkNode>("done");
  const cpu = process.cpuUsage();
  return {
    memory: memory(),
    cpuUs: cpu.user + cpu.system,
    registry: s ? s.registry.size : null,
    outbox: s ? s.outbox.size : null,
    errors: errors ? { received: errors.received, errors: errors.errors, firstError: errors.firstError } : null,
    done: sink ? sink.received : completed,
  };
}

async function start(a: StartArgs): Promise<void> {
  const nodesDir = path.join(a.userDir, "nodes");
  fs.mkdirSync(nodesDir, { recursive: true });
  fs.writeFileSync(path.join(nodesDir, "bench-nodes.js"), `module.exports = require(${JSON.stringify(path.join(__dirname, "bench-nodes.js"))});\n`);
  fs.writeFileSync(path.join(nodesDir, "bench-nodes.html"), BENCH_NODES_HTML);
  fs.writeFileSync(path.join(a.userDir, "flows.json"), JSON.stringify(a.flows));
  fs.writeFileSync(path.join(a.userDir, "flows_cred.json"), JSON.stringify(a.credentials));
  const settings = {
    userDir: a.userDir,
    flowFile: "flows.json",
    credentialSecret: false,
    nodesDir: [PACKAGE_ROOT],
    httpAdminRoot: false,
    httpNodeRoot: false,
    disableEditor: true,
    telemetry: { enabled: false },
    // Only this package besides the core nodes: other Node-RED modules installed next to it
    // (dev dependencies of other benchmarks) would add their load time and memory.
    externalModules: { palette: { allowList: ["node-red-contrib-iot-gateway"] } },
    editorTheme: { projects: { enabled: false } },
    logging: { console: { level: a.logLevel ?? "warn", metrics: false, audit: false } },
  };
  RED.init(http.createServer(), settings);
  await RED.start();
  RED.hooks.add("onComplete.bench", (e) => {
    if (e.node.id === "tel" && !e.error) completed++;
  });
}

/** Waits until every node in `ids` is connected (a gateway-config's session, or a core mqtt-broker). */
async function ready(ids: string[], timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const missing = ids.filter((id) => {
      const n = node<Probe>(id);
      if (!n) return true;
      if (n.session) return !session()?.connected;
      return !n.connected;
    });
    if (missing.length === 0) return;
    if (Date.now() > end) throw new Error(`not connected within ${timeoutMs} ms: ${missing.join(", ")}`);
    await sleep(20);
  }
}

let generated: Promise<number> | undefined;

/** Starts the bench-source; resolves with the time the first msg was injected. */
function generate(w: Workload): Promise<number> {
  const src = node<EventNode>("src");
  if (!src) throw new Error("the flow has no bench-source");
  generated = new Promise((resolve) => src.once("bench:generated", (at) => resolve(at as number)));
  const started = new Promise<number>((resolve) => src.once("bench:start", (at) => resolve(at as number)));
  src.receive({ payload: w });
  return started;
}

async function gc(rounds: number): Promise<Stats> {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (!collect) throw new Error("start the host with --expose-gc");
  for (let i = 0; i < rounds; i++) {
    collect();
    await sleep(200);
  }
  return stats();
}

/** Waits until `done` msgs are complete and the registry holds `devices` (or errors stop it). */
async function waitDone(done: number, devices: number, timeoutMs: number): Promise<Stats & { at: number }> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const s = stats();
    if ((s.done ?? 0) + (s.errors?.errors ?? 0) >= done && (s.registry ?? 0) >= devices) return { ...s, at: now() };
    if (Date.now() > end) throw new Error(`after ${timeoutMs} ms: ${s.done} of ${done} msgs done, ${s.registry} of ${devices} devices, ${s.errors?.errors ?? 0} errors (${s.errors?.firstError ?? "none"})`);
    await sleep(5);
  }
}

// The CPU profile covers only the measured window (generate → last point), not start-up.
let profiler: Session | undefined;

function post(method: string, params?: Record<string, unknown>): Promise<unknown> {
  return new Promise((resolve, reject) => profiler!.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res))));
}

async function profileStart(): Promise<void> {
  profiler = new Session();
  profiler.connect();
  await post("Profiler.enable");
  await post("Profiler.setSamplingInterval", { interval: 250 });
  await post("Profiler.start");
}

async function profileStop(file: string): Promise<string> {
  if (!profiler) throw new Error("no profile running");
  const { profile } = (await post("Profiler.stop")) as { profile: unknown };
  profiler.disconnect();
  profiler = undefined;
  fs.writeFileSync(file, JSON.stringify(profile));
  return file;
}

export type Request =
  | { id: number; cmd: "start"; args: StartArgs }
  | { id: number; cmd: "ready"; ids: string[]; timeoutMs: number }
  | { id: number; cmd: "generate"; workload: Workload }
  | { id: number; cmd: "generated" }
  | { id: number; cmd: "stats" }
  | { id: number; cmd: "gc"; rounds: number }
  | { id: number; cmd: "waitDone"; done: number; devices: number; timeoutMs: number }
  | { id: number; cmd: "profileStart" }
  | { id: number; cmd: "profileStop"; file: string }
  | { id: number; cmd: "stop" };

async function handle(r: Request): Promise<unknown> {
  switch (r.cmd) {
    case "start":
      return start(r.args);
    case "ready":
      return ready(r.ids, r.timeoutMs);
    case "generate":
      return generate(r.workload);
    case "generated":
      if (!generated) throw new Error("nothing generated yet");
      return generated;
    case "stats":
      return stats();
    case "gc":
      return gc(r.rounds);
    case "waitDone":
      return waitDone(r.done, r.devices, r.timeoutMs);
    case "profileStart":
      return profileStart();
    case "profileStop":
      return profileStop(r.file);
    case "stop":
      await RED.stop();
      setImmediate(() => process.exit(0));
      return undefined;
  }
}

if (require.main === module) {
  process.on("message", (r: Request) => {
    handle(r).then(
      (result) => process.send?.({ id: r.id, result }),
      (err: Error) => process.send?.({ id: r.id, error: err.stack ?? String(err) }),
    );
  });
  process.on("disconnect", () => process.exit(0));
}
