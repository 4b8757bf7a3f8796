// Child process entry for the kill -9 scenario (bench/store-kill.ts): a real Node-RED runtime
// (require("node-red"), RED.init + start) with this package, a flow "telemetry-out → gateway-config
// with the disk store" and its userDir in a temp folder. While GENERATE is set it feeds the
// telemetry-out `RATE` msgs/s over `DEVICES` devices ({n} per device, counting up), and tells
// the parent over IPC which msgs are done (done() = stored on disk). The parent kills it with
// SIGKILL: nothing here gets a chance to clean up, which is the point.
import http from "http";
import path from "path";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const RED = require("node-red") as {
  init(server: http.Server, settings: Record<string, unknown>): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  nodes: { getNode(id: string): unknown };
  hooks: { add(name: string, f: (event: { msg: Record<string, unknown>; node: { id: string }; error?: unknown }) => void): void };
};

const PACKAGE_ROOT = path.resolve(__dirname, "..", "..");

export interface StoreHostArgs {
  userDir: string;
  url: string;
  rate: number;
  devices: number;
  generate: boolean;
  /** gateway-config properties over the defaults below. */
  gateway?: Record<string, unknown>;
}

/** Progress the child reports: msgs done ([device index, n]) and errors since the last report. */
export interface StoreHostReport {
  done: Array<[number, number]>;
  errors: string[];
  waiting?: number;
}

export function storeFlow(a: StoreHostArgs): Array<Record<string, unknown>> {
  return [
    { id: "t", type: "tab", label: "store" },
    { id: "tel", type: "telemetry-out", z: "t", x: 200, y: 100, gateway: "gw", device: "device", deviceType: "msg", profile: "", profileType: "str", autoConnect: true, wires: [] },
    {
      id: "gw",
      type: "gateway-config",
      platform: "thingsboard",
      url: a.url,
      auth: "token",
      clientId: "",
      protocolVersion: "4",
      keepalive: 60,
      qos: "1",
      tls: "",
      reconnectMin: 0.2,
      reconnectMax: 0.5,
      batchWindow: 20,
      maxPayload: 65536,
      maxQueued: 100000,
      overflow: "reject",
      storeType: "disk",
      storePath: "",
      storeMaxMB: 512,
      storeMaxAgeH: 168,
      doneWhen: "stored",
      ...a.gateway,
    },
  ];
}

async function main(a: StoreHostArgs): Promise<void> {
  const fs = await import("fs");
  fs.writeFileSync(path.join(a.userDir, "flows.json"), JSON.stringify(storeFlow(a)));
  fs.writeFileSync(path.join(a.userDir, "flows_cred.json"), JSON.stringify({ gw: { token: "GATEWAY_TOKEN" } }));
  let report: StoreHostReport = { done: [], errors: [] };
  RED.hooks.add("onComplete", (ev) => {
    if (ev.node.id !== "tel") return;
    if (ev.error) report.errors.push(String((ev.error as Error).message ?? ev.error));
    else report.done.push([ev.msg.dev as number, (ev.msg.payload as { n: number }).n]);
  });
  RED.init(http.createServer(), {
    userDir: a.userDir,
    flowFile: "flows.json",
    credentialSecret: false,
    nodesDir: [PACKAGE_ROOT],
    httpAdminRoot: false,
    httpNodeRoot: false,
    disableEditor: true,
    telemetry: { enabled: false },
    externalModules: { palette: { allowList: ["node-red-contrib-iot-gateway"] } },
    editorTheme: { projects: { enabled: false } },
    logging: { console: { level: process.env.STORE_HOST_LOG ?? "error", metrics: false, audit: false } },
  });
  await RED.start();
  for (let i = 0; !RED.nodes.getNode("tel"); i++) {
    if (i > 500) throw new Error("the flow did not start (are the package's nodes built?)");
    await new Promise((r) => setTimeout(r, 20));
  }
  const gw = RED.nodes.getNode("gw") as { stats?: () => { waiting: number } | undefined };
  setInterval(() => {
    const r = report;
    report = { done: [], errors: [] };
    process.send?.({ ...r, waiting: gw?.stats?.()?.waiting } satisfies StoreHostReport);
  }, 20);
  if (a.generate) {
    const tel = RED.nodes.getNode("tel") as { receive(msg: unknown): void };
    const next = new Array<number>(a.devices).fill(0);
    const perTick = Math.max(1, Math.round(a.rate / 100));
    let d = 0;
    setInterval(() => {
      for (let i = 0; i < perTick; i++) {
        const dev = d;
        d = (d + 1) % a.devices;
        tel.receive({ device: `Device ${dev}`, dev, payload: { n: next[dev]++ } });
      }
    }, 10);
  }
  process.send?.({ ready: true });
}

if (require.main === module) {
  const a = JSON.parse(process.argv[2]) as StoreHostArgs;
  main(a).catch((err: Error) => {
    console.error(err.stack ?? err);
    process.exit(1);
  });
  process.on("disconnect", () => process.exit(0));
}
