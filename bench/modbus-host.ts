// Child process entry: one Modbus client under test, driven over IPC by bench/modbus.ts. A fresh
// process per measurement, so no client inherits another's heap, timers or sockets.
//   engine    — lib/modbus directly: one ModbusLine and a UnitPoller per unit (no Node-RED);
//   node-red  — an embedded Node-RED runtime (require("node-red"), RED.init + start) running a
//               flow: ours (modbus-connection + modbus-source) or node-red-contrib-modbus
//               (modbus-client + modbus-read), every poller output wired to a counter node.
import fs from "fs";
import http from "http";
import { Session } from "inspector";
import os from "os";
import path from "path";
import { ModbusLine, UnitPoller } from "../lib/modbus";
import { UNITS, unitMap } from "./modbus-map";

const PACKAGE_ROOT = path.resolve(__dirname, "..", "..");
const DIST_NODES = path.join(PACKAGE_ROOT, "dist", "nodes");

export interface FlowNode {
  id: string;
  type: string;
  [k: string]: unknown;
}

export type HostStart =
  | { mode: "engine"; port: number; periodMs: number }
  | { mode: "node-red"; flows: FlowNode[] };

export interface HostCounts {
  /** Poll results delivered: engine `values` events, or msgs reaching the counter node. */
  msgs: number;
  /** node-red-contrib-modbus: requests waiting in the client's unit queues. */
  backlog: number | null;
  /** engine: polls skipped because the previous one was still running. */
  skipped: number | null;
  /** engine: failed polls. */
  failed: number | null;
  rss: number;
}

export type HostRequest =
  | { id: number; cmd: "start"; args: HostStart }
  | { id: number; cmd: "counts" }
  | { id: number; cmd: "profileStart" }
  | { id: number; cmd: "profileStop"; file: string }
  | { id: number; cmd: "stop" };

const COUNTER_HTML = `
<script type="text/javascript">
  RED.nodes.registerType("modbus-bench-counter", { category: "common", defaults: {}, inputs: 1, outputs: 0, label: "counter" });
</script>
`;

// Only for a checkout whose modbus nodes have no editor file yet: Node-RED loads a .js only with
// its .html, so the runtime files are loaded through a wrapper with a stub .html.
const STUB_HTML = (type: string, category: string): string =>
  `<script type="text/javascript">RED.nodes.registerType(${JSON.stringify(type)}, { category: ${JSON.stringify(category)}, defaults: {} });</script>\n`;

/** Whether our modbus nodes load from the package as installed (they have their .html). */
export function oursHaveEditorFiles(): boolean {
  return ["modbus-connection", "modbus-source"].every((t) => fs.existsSync(path.join(DIST_NODES, `${t}.html`)));
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
type Red = { init(server: http.Server, settings: Record<string, unknown>): void; start(): Promise<void>; stop(): Promise<void>; nodes: { getNode(id: string): unknown } };
let RED: Red | undefined;
let engine: { line: ModbusLine; pollers: UnitPoller[]; values: number } | undefined;
let userDir: string | undefined;

async function startNodeRed(flows: FlowNode[]): Promise<void> {
  userDir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-modbus-"));
  const nodesDir = path.join(userDir, "nodes");
  fs.mkdirSync(nodesDir, { recursive: true });
  fs.writeFileSync(path.join(nodesDir, "modbus-bench-counter.js"), `module.exports = require(${JSON.stringify(path.join(__dirname, "modbus-nodes.js"))});\n`);
  fs.writeFileSync(path.join(nodesDir, "modbus-bench-counter.html"), COUNTER_HTML);
  const dirs = [nodesDir];
  if (oursHaveEditorFiles()) dirs.push(PACKAGE_ROOT);
  else {
    for (const [t, cat] of [["modbus-connection", "config"], ["modbus-source", "network"]]) {
      fs.writeFileSync(path.join(nodesDir, `${t}.js`), `module.exports = require(${JSON.stringify(path.join(DIST_NODES, `${t}.js`))});\n`);
      fs.writeFileSync(path.join(nodesDir, `${t}.html`), STUB_HTML(t, cat));
    }
  }
  fs.writeFileSync(path.join(userDir, "flows.json"), JSON.stringify(flows));
  // node-red-contrib-modbus is found where Node-RED looks for installed modules (this package's node_modules)
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  RED = require("node-red") as Red;
  RED.init(http.createServer(), {
    userDir,
    flowFile: "flows.json",
    credentialSecret: false,
    nodesDir: dirs,
    httpAdminRoot: false,
    httpNodeRoot: false,
    disableEditor: true,
    telemetry: { enabled: false },
    editorTheme: { projects: { enabled: false } },
    logging: { console: { level: process.env.MODBUS_BENCH_LOG ?? "warn", metrics: false, audit: false } },
  });
  await RED.start();
  // flows start after RED.start() resolves
  let missing: string[] = [];
  for (const end = Date.now() + 15000; Date.now() < end; await new Promise((r) => setTimeout(r, 20))) {
    missing = flows.filter((n) => n.type !== "tab" && !RED?.nodes.getNode(n.id)).map((n) => `${n.id} (${n.type})`);
    if (missing.length === 0) break;
  }
  if (missing.length) throw new Error(`Node-RED did not start these nodes (type not loaded?): ${missing.slice(0, 5).join(", ")}${missing.length > 5 ? ", …" : ""}`);
}

function startEngine(port: number, periodMs: number): void {
  const line = new ModbusLine({ transport: "tcp", host: "127.0.0.1", port, timeoutMs: 1000, retries: 1 });
  const e = { line, pollers: [] as UnitPoller[], values: 0 };
  for (const unitId of UNITS) {
    const p = new UnitPoller(line, { unitId, map: unitMap(), periodMs });
    p.on("values", () => e.values++);
    e.pollers.push(p);
  }
  engine = e;
  line.open();
  for (const p of e.pollers) p.start();
}

type QueueOwner = { bufferCommandList?: Map<number, unknown[]> };

function counts(): HostCounts {
  const rss = process.memoryUsage().rss;
  if (engine) {
    const s = engine.pollers.map((p) => p.stats);
    return { msgs: engine.values, backlog: null, skipped: s.reduce((n, x) => n + x.skipped, 0), failed: s.reduce((n, x) => n + x.totalFailedPolls, 0), rss };
  }
  const counter = RED?.nodes.getNode("count") as { received?: number } | null;
  const client = RED?.nodes.getNode("client") as QueueOwner | null;
  let backlog: number | null = null;
  if (client?.bufferCommandList instanceof Map) {
    backlog = 0;
    for (const q of client.bufferCommandList.values()) backlog += q.length;
  }
  return { msgs: counter?.received ?? 0, backlog, skipped: null, failed: null, rss };
}

let profiler: Session | undefined;

function post(method: string, params?: Record<string, unknown>): Promise<unknown> {
  return new Promise((resolve, reject) => profiler!.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res))));
}

async function handle(r: HostRequest): Promise<unknown> {
  switch (r.cmd) {
    case "start":
      if (r.args.mode === "engine") startEngine(r.args.port, r.args.periodMs);
      else await startNodeRed(r.args.flows);
      return null;
    case "counts":
      return counts();
    case "profileStart":
      profiler = new Session();
      profiler.connect();
      await post("Profiler.enable");
      await post("Profiler.setSamplingInterval", { interval: 250 });
      await post("Profiler.start");
      return null;
    case "profileStop": {
      if (!profiler) throw new Error("no profile running");
      const { profile } = (await post("Profiler.stop")) as { profile: unknown };
      profiler.disconnect();
      profiler = undefined;
      fs.writeFileSync(r.file, JSON.stringify(profile));
      return r.file;
    }
    case "stop":
      if (engine) {
        await Promise.all(engine.pollers.map((p) => p.stop()));
        await engine.line.close();
      }
      if (RED) await RED.stop();
      if (userDir) fs.rmSync(userDir, { recursive: true, force: true });
      setImmediate(() => process.exit(0));
      return null;
  }
}

if (require.main === module) {
  process.on("message", (r: HostRequest) => {
    handle(r).then(
      (result) => process.send?.({ id: r.id, result }),
      (err: Error) => process.send?.({ id: r.id, error: err.stack ?? String(err) }),
    );
  });
  process.on("disconnect", () => process.exit(0));
  process.send?.({ ready: process.pid });
}
