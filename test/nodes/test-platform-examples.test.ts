// Every shipped example seen working from the palette alone: the test platform started through the
// admin API (as the editor's tab does), the example's gateway-config pointed at it with the settings
// "use it" applies, deployed, and what its Comment node promises seen through the same API (data
// arrived, an RPC / command / attribute change answered) or in the flow's own debug nodes.
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import should from "should";
import { helper, nodes, type FlowNode } from "../support/red";

const CORE = [
  "common/20-inject.js", "common/21-debug.js", "common/90-comment.js", "common/25-catch.js", "common/24-complete.js", "common/25-status.js",
  "function/10-function.js", "function/10-switch.js", "function/15-change.js",
].map((f) => require(`@node-red/nodes/core/${f}`));
const OURS = [require("../../nodes/event-out"), require("../../nodes/test-platform")];

const BASE = "/iot-gateway/test-platform";
const DIR = (() => {
  for (let dir = __dirname; path.dirname(dir) !== dir; dir = path.dirname(dir)) if (fs.existsSync(path.join(dir, "examples"))) return path.join(dir, "examples");
  throw new Error("examples/ not found");
})();

interface Info {
  id: string;
  url: string;
  port: number;
  use?: Record<string, string>;
}

interface DeviceView {
  name: string;
  gateway: boolean;
  latest?: { values: Record<string, unknown>; event?: string };
  count: number;
  attributes?: Record<string, unknown>;
  claims?: number;
  events?: { count: number; last?: string };
  managed?: { deviceInfo: Record<string, unknown>; location?: Record<string, unknown>; log: number };
}

function example(name: string): FlowNode[] {
  return JSON.parse(fs.readFileSync(path.join(DIR, name), "utf8")) as FlowNode[];
}

async function start(platform: string, port?: number): Promise<Info> {
  const res = await helper.request().post(BASE).send({ platform, port });
  should(res.status).equal(200, JSON.stringify(res.body));
  return res.body as Info;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Imports the example as a user would and applies what the tab's "use it" sets on its
 * gateway-config; a Modbus example's connection gets the simulator's port.
 */
async function deploy(name: string): Promise<{ flow: FlowNode[]; info: Info }> {
  await helper.unload();
  await helper.load([...OURS], [], {}); // the admin API comes with the plugin
  const flow = example(name);
  const gw = flow.find((n) => n.type === "gateway-config")!;
  const info = await start(String(gw.platform));
  const { token, provisionKey: _k, provisionSecret: _s, ...use } = info.use!;
  let modbusPort: number | undefined;
  if (flow.some((n) => n.type === "modbus-connection")) modbusPort = (await start("modbus", await freePort())).port;
  const deployed = flow.map((n) => {
    if (n.type === "gateway-config") return { ...n, ...use, reconnectMin: "0.2" };
    if (n.type === "modbus-connection") return { ...n, port: String(modbusPort) };
    return { ...n, z: "flow" };
  });
  await helper.unload();
  await new Promise<void>((resolve, reject) =>
    helper.load([...Object.values(nodes), ...OURS, ...CORE], [{ id: "flow", type: "tab", label: name } as FlowNode, ...deployed], { [gw.id]: { token } }, (err?: Error) => (err ? reject(err) : resolve())),
  );
  return { flow, info };
}

function idOf(flow: FlowNode[], type: string, name?: string): string {
  const n = flow.find((x) => x.type === type && (name === undefined || x.name === name));
  if (!n) throw new Error(`no ${type} "${name ?? ""}" in the example`);
  return n.id;
}

/** The next msg the example's own debug node receives. */
function nextAt(id: string, timeoutMs = 10000): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no msg at ${id} within ${timeoutMs} ms`)), timeoutMs);
    helper.getNode(id).once("input", (msg: Record<string, unknown>) => {
      clearTimeout(timer);
      resolve(msg);
    });
  });
}

async function devicesWhen(info: Info, probe: (d: DeviceView[]) => boolean, what: string, timeoutMs = 10000): Promise<DeviceView[]> {
  let list: DeviceView[] = [];
  for (const end = Date.now() + timeoutMs; ; ) {
    list = ((await helper.request().get(`${BASE}/${info.id}/devices`)).body as { devices: DeviceView[] }).devices;
    if (probe(list)) return list;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(list)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const dev = (list: DeviceView[], name: string) => list.find((d) => d.name === name);

/** Sends through the tab's API until the gateway's subscriptions are in place (a click right after deploy may come first). */
async function send(info: Info, action: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  for (const end = Date.now() + 10000; ; ) {
    const res = await helper.request().post(`${BASE}/${info.id}/${action}`).send({ timeout: 1000, ...body });
    if (res.status === 200) return res.body as Record<string, unknown>;
    if (Date.now() > end) throw new Error(`${action} not answered: ${JSON.stringify(res.body)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const CHECKS: Record<string, (flow: FlowNode[], info: Info) => Promise<void>> = {
  "attribute-request-at-startup.json": async (flow) => {
    const msg = await nextAt(idOf(flow, "debug", "attributes"));
    should(msg.payload).be.an.Object();
  },
  "claim-device.json": async (flow, info) => {
    const ack = nextAt(idOf(flow, "debug", "claim window open"));
    helper.getNode(idOf(flow, "inject", "claim Meter 7")).receive({});
    await ack;
    await devicesWhen(info, (l) => (dev(l, "Meter 7")?.claims ?? 0) > 0, "the claim of Meter 7");
  },
  "gateway-provisioning.json": async (_flow, info) => {
    // as imported it connects with the token "use it" sets (provisioning itself: test-platform.test.ts)
    const list = await devicesWhen(info, (l) => (dev(l, "Sensor P1")?.count ?? 0) > 0, "telemetry of Sensor P1");
    dev(list, "Sensor P1")!.latest!.values.should.have.property("temperature");
  },
  "gateway-rpc-request.json": async (flow) => {
    const msg = await nextAt(idOf(flow, "debug", "server's answer"));
    should(msg.payload).have.property("time").which.is.a.Number();
  },
  "gateway-service-rpcs.json": async (_flow, info) => {
    should((await send(info, "rpc", { device: "", method: "gateway_ping" })).response).have.properties({ code: 200, resp: "pong" });
  },
  "gateway-statistics.json": async (_flow, info) => {
    // the statistics come every 60 s (10 s at least): what the test sees is the reading they count
    const list = await devicesWhen(info, (l) => (dev(l, "Sensor 1")?.count ?? 0) > 0, "telemetry of Sensor 1");
    dev(list, "Sensor 1")!.latest!.values.should.have.property("temperature");
  },
  "modbus-to-thingsboard.json": async (_flow, info) => {
    const list = await devicesWhen(info, (l) => (dev(l, "Boiler")?.count ?? 0) > 0 && "firmware" in (dev(l, "Boiler")?.attributes ?? {}), "the Boiler's telemetry and firmware", 15000);
    dev(list, "Boiler")!.latest!.values.should.have.properties("temperature", "pressure", "setpoint");
    should(dev(list, "Boiler")!.attributes!.firmware).equal("FW 2.1.0");
  },
  "rpc-answer.json": async (_flow, info) => {
    should(await send(info, "rpc", { device: "Pump 1", method: "setSpeed", params: { rpm: 1200 } })).eql({ delivered: true, response: { rpm: 1200 } });
  },
  "shared-attribute-setting.json": async (flow, info) => {
    await devicesWhen(info, (l) => dev(l, "Boiler 1") !== undefined, "Boiler 1 connected");
    const seen = nextAt(idOf(flow, "debug", "new setpoint"));
    should(await send(info, "attributes", { device: "Boiler 1", values: { setpoint: 70 } })).eql({ delivered: true });
    should((await seen).payload).have.property("setpoint", 70);
  },
  "telemetry-simulated-sensors.json": async (_flow, info) => {
    const list = await devicesWhen(info, (l) => l.filter((d) => !d.gateway && d.count > 0).length >= 3, "telemetry of three devices");
    list.filter((d) => !d.gateway).length.should.equal(3);
  },
  "thingspanel-attribute-set.json": async (_flow, info) => {
    should((await send(info, "attributes", { device: "sensor_001", values: { sampling_rate: 10 } })).response).have.properties({ result: 0 });
    await devicesWhen(info, (l) => dev(l, "sensor_001")?.attributes?.sampling_rate === 10, "the applied value reported back");
  },
  "thingspanel-command-answered.json": async (_flow, info) => {
    should((await send(info, "command", { device: "sensor_001", method: "Calibrate", params: { offset: 0.5 } })).response).have.properties({ result: 0, method: "Calibrate" });
  },
  "thingspanel-event.json": async (_flow, info) => {
    const list = await devicesWhen(info, (l) => (dev(l, "")?.events?.count ?? 0) > 0 && (dev(l, "sensor_001")?.events?.count ?? 0) > 0, "both events");
    dev(list, "")!.events!.last!.should.equal("SystemStarted");
    dev(list, "sensor_001")!.events!.last!.should.equal("AlarmTriggered");
  },
  "thingspanel-sensors-telemetry.json": async (_flow, info) => {
    const list = await devicesWhen(info, (l) => (dev(l, "sensor_001")?.count ?? 0) > 0 && (dev(l, "line-2/sensor_101")?.count ?? 0) > 0, "telemetry of both sensors");
    dev(list, "sensor_001")!.latest!.values.should.have.keys("temperature", "humidity");
  },
  "watson-command-handled.json": async (_flow, info) => {
    should(await send(info, "command", { device: "sensor/sensor-1", method: "setInterval", params: { seconds: 10 } })).eql({ delivered: true, response: { ok: true, command: "setInterval" } });
  },
  "watson-managed-gateway.json": async (_flow, info) => {
    // managed: sensor-1 with its deviceInfo, then its location and log from the event-out
    const list = await devicesWhen(info, (l) => dev(l, "sensor/sensor-1")?.managed?.location !== undefined && (dev(l, "sensor/sensor-1")?.managed?.log ?? 0) > 0, "sensor-1 managed, with location and log", 15000);
    dev(list, "sensor/sensor-1")!.managed!.deviceInfo.should.have.property("model", "TH-20");
    dev(list, "gateway-type/gateway-1")!.managed!.should.be.an.Object();
    // the device actions the flow answers: a reboot accepted, a factory reset refused
    should(await send(info, "device-action", { device: "sensor/sensor-1", method: "reboot" })).eql({ delivered: true, response: { rc: 202 } });
    should((await send(info, "device-action", { device: "sensor/sensor-1", method: "factory_reset" })).response).have.property("rc", 501);
  },
  "watson-sensors-events.json": async (_flow, info) => {
    const list = await devicesWhen(info, (l) => (dev(l, "sensor/sensor-1")?.count ?? 0) > 0 && (dev(l, "sensor/sensor-2")?.count ?? 0) > 0, "events of both sensors");
    // the latest is a reading ("telemetry") or, above 30 °C, the "overheat" event
    const latest = dev(list, "sensor/sensor-1")!.latest!;
    latest.event!.should.be.oneOf("telemetry", "overheat");
    latest.values.should.have.property("temperature");
  },
};

describe("every shipped example against the test platform, through its admin API", function () {
  this.timeout(30000);

  beforeEach(async () => {
    await new Promise<void>((r) => helper.startServer(() => r()));
  });

  afterEach(async () => {
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r())); // stops the platforms
  });

  it("has a check for each example file", () => {
    should(fs.readdirSync(DIR).filter((f) => f.endsWith(".json")).sort()).eql(Object.keys(CHECKS).sort());
  });

  for (const [name, check] of Object.entries(CHECKS)) {
    it(name, async () => {
      const { flow, info } = await deploy(name);
      await check(flow, info);
    });
  }
});
