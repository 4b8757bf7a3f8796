// The test platform's admin API in a real Node-RED runtime (node-red-node-test-helper): what the
// editor's "IoT gateway" tab asks, answered as the editor would see it; a gateway-config pointed at
// a started platform with the settings the API hands out, deployed, its data and answers seen.
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import mqtt from "mqtt";
import should from "should";
import { TestPlatforms } from "../../nodes/common/test-platform";
import { helper, nodes, type FlowNode } from "../support/red";

const plugin = require("../../nodes/test-platform");
const inject = require("@node-red/nodes/core/common/20-inject.js");
const change = require("@node-red/nodes/core/function/15-change.js");
const eventOut = require("../../nodes/event-out");

const BASE = "/iot-gateway/test-platform";

interface Info {
  id: string;
  platform: string;
  url: string;
  port: number;
  gatewayConnected: boolean;
  use: Record<string, string>;
  actions: string[];
}

interface DeviceView {
  name: string;
  gateway: boolean;
  connected?: boolean;
  latest?: { ts: number; values: Record<string, unknown>; event?: string };
  count: number;
}

/**
 * Deploys the flow, with the plugin beside the nodes (Node-RED loads it from package.json
 * "node-red".plugins). A deploy replaces the flow before; the platforms keep running.
 */
async function load(flow: FlowNode[], credentials: Record<string, unknown> = {}): Promise<void> {
  await helper.unload();
  const onTab = flow.map((n) => (n.type === "gateway-config" || n.z ? n : { x: 100, y: 100, ...n, z: "flow" }));
  const all = onTab.some((n) => n.z === "flow") ? [{ id: "flow", type: "tab", label: "test" }, ...onTab] : onTab;
  return new Promise((resolve, reject) =>
    helper.load([...Object.values(nodes), eventOut, inject, change, plugin], all, credentials, (err?: Error) => (err ? reject(err) : resolve())),
  );
}

async function start(platform: string, port?: number): Promise<Info> {
  const res = await helper.request().post(BASE).send(port === undefined ? { platform } : { platform, port });
  should(res.status).equal(200, JSON.stringify(res.body));
  return res.body as Info;
}

/** The gateway-config the editor's "use it" makes: the node's own settings plus the platform's. */
function gatewayFor(info: Info): { node: FlowNode; credentials: Record<string, unknown> } {
  const { token, platform, provisionKey: _k, provisionSecret: _s, ...rest } = info.use;
  return {
    node: { id: "gw", type: "gateway-config", name: "test gateway", platform, auth: "token", protocolVersion: "4", qos: "1", keepalive: 60, reconnectMin: 0.2, reconnectMax: 1, batchWindow: 5, maxPayload: 65536, maxQueued: 1000, overflow: "reject", ...rest },
    credentials: { gw: { token } },
  };
}

async function devices(id: string): Promise<DeviceView[]> {
  const res = await helper.request().get(`${BASE}/${id}/devices`);
  should(res.status).equal(200);
  return (res.body as { devices: DeviceView[] }).devices;
}

async function eventually(probe: () => Promise<boolean>, what: string, timeoutMs = 10000): Promise<void> {
  for (const end = Date.now() + timeoutMs; !(await probe()); ) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    s.once("connect", () => { s.destroy(); resolve(true); });
    s.once("error", () => resolve(false));
  });
}

function occupied(): Promise<net.Server> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => resolve(s));
  });
}

describe("test platform: admin API in a Node-RED runtime", function () {
  this.timeout(20000);

  beforeEach(async () => {
    await new Promise<void>((r) => helper.startServer(() => r()));
  });

  afterEach(async () => {
    // what the editor does when it leaves: nothing; the platforms stop with Node-RED
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
  });

  it("starts one platform of each kind on a free port, lists them, stops one by one", async () => {
    await load([]);
    const started: Info[] = [];
    for (const p of ["thingsboard", "thingspanel", "watson"]) started.push(await start(p));
    started.map((i) => i.platform).should.eql(["thingsboard", "thingspanel", "watson"]);
    for (const i of started) {
      i.url.should.equal(`mqtt://127.0.0.1:${i.port}`);
      i.id.should.equal(`${i.platform}-${i.port}`);
      i.use.url.should.equal(i.url);
      i.use.token.should.equal("GATEWAY_TOKEN");
    }
    started[1].use.deviceNumber.should.equal("GW-0001");
    started[2].use.should.have.properties({ watsonOrg: "abc123", watsonType: "gateway-type", watsonId: "gateway-1" });
    const listed = await helper.request().get(BASE);
    (listed.body.platforms as Info[]).map((i) => i.id).should.eql(started.map((i) => i.id));
    // a started platform really listens
    (await portOpen(started[0].port)).should.be.true();
    for (const i of started) (await helper.request().delete(`${BASE}/${i.id}`)).status.should.equal(204);
    (await helper.request().get(BASE)).body.platforms.should.eql([]);
    const again = await helper.request().delete(`${BASE}/${started[0].id}`);
    again.status.should.equal(404);
    again.body.code.should.equal("not-running");
  });

  it("a port in use is a clear refusal to the editor; Node-RED and the other platforms carry on", async () => {
    await load([]);
    const busy = await occupied();
    const port = (busy.address() as net.AddressInfo).port;
    try {
      const tb = await start("thingsboard");
      const res = await helper.request().post(BASE).send({ platform: "thingspanel", port });
      res.status.should.equal(409);
      res.body.should.have.properties({ code: "port-in-use", params: { port } });
      res.body.message.should.be.a.String();
      // the Modbus simulator too (its server library reports a busy port its own way)
      const modbus = await helper.request().post(BASE).send({ platform: "modbus", port });
      modbus.status.should.equal(409);
      modbus.body.code.should.equal("port-in-use");
      // the runtime still answers, the running platform is still there
      (await helper.request().get(BASE)).body.platforms.map((i: Info) => i.id).should.eql([tb.id]);
      // a bad request is refused with its own code
      (await helper.request().post(BASE).send({ platform: "mosquitto" })).body.code.should.equal("unknown-platform");
      (await helper.request().post(BASE).send({ platform: "watson", port: 70000 })).body.code.should.equal("bad-port");
      // a chosen free port is taken as given
      busy.close();
      await new Promise((r) => setTimeout(r, 0));
      (await start("watson", port)).port.should.equal(port);
    } finally {
      busy.close();
    }
  });

  it("ThingsBoard: a gateway-config pointed at it connects; its devices, their latest telemetry, an RPC answered, a shared attribute delivered", async () => {
    await load([]);
    const tb = await start("thingsboard");
    const { node, credentials } = gatewayFor(tb);
    await load(
      [
        node,
        { id: "in1", type: "inject", props: [{ p: "payload", v: '{"temperature": 21.5}', vt: "json" }, { p: "device", v: "Pump 1", vt: "str" }], repeat: "", once: false, wires: [["tel"]] },
        { id: "tel", type: "telemetry-out", gateway: "gw", device: "device", deviceType: "msg", profile: "", profileType: "str", autoConnect: true, wires: [] },
        { id: "rpc", type: "rpc-in", gateway: "gw", target: "devices", devices: "", methods: "", autoAnswer: "5000", wires: [["ans"]] },
        { id: "ans", type: "change", rules: [{ t: "set", p: "payload", pt: "msg", to: '{"rpm": 1200}', tot: "json" }], wires: [["res"]] },
        { id: "res", type: "rpc-response", gateway: "", wires: [] },
        { id: "attr", type: "attribute-in", gateway: "gw", target: "devices", devices: "Pump 1", keys: "", wires: [["h"]] },
        { id: "h", type: "helper" },
      ],
      credentials,
    );
    const gwInfo = async () => (await helper.request().get(`${BASE}/${tb.id}`)).body as Info;
    for (const end = Date.now() + 10000; !(await gwInfo()).gatewayConnected; ) {
      if (Date.now() > end) throw new Error("the gateway-config did not connect to the test platform");
      await new Promise((r) => setTimeout(r, 50));
    }
    helper.getNode("in1").receive({});
    let list: DeviceView[] = [];
    for (const end = Date.now() + 10000; !(list = await devices(tb.id)).some((d) => d.name === "Pump 1" && d.count > 0); ) {
      if (Date.now() > end) throw new Error(`no telemetry of Pump 1 listed: ${JSON.stringify(list)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const pump = list.find((d) => d.name === "Pump 1")!;
    pump.should.have.properties({ gateway: false, connected: true, count: 1 });
    pump.latest!.values.should.eql({ temperature: 21.5 });
    list.find((d) => d.gateway)!.name.should.equal("Gateway");

    const rpc = await helper.request().post(`${BASE}/${tb.id}/rpc`).send({ device: "Pump 1", method: "setSpeed", params: { rpm: 1200 } });
    rpc.status.should.equal(200, JSON.stringify(rpc.body));
    rpc.body.should.eql({ delivered: true, response: { rpm: 1200 } });

    const got = new Promise<Record<string, unknown>>((resolve) => helper.getNode("h").once("input", resolve));
    const attr = await helper.request().post(`${BASE}/${tb.id}/attributes`).send({ device: "Pump 1", values: { setpoint: 40 } });
    attr.status.should.equal(200, JSON.stringify(attr.body));
    attr.body.should.eql({ delivered: true });
    should((await got).payload).eql({ setpoint: 40 });

    // what the platform cannot do is said, not attempted
    const offline = await helper.request().post(`${BASE}/${tb.id}/rpc`).send({ device: "Nobody", method: "x" });
    offline.status.should.equal(502);
    offline.body.code.should.equal("send-failed");
    offline.body.params.reason.should.match(/offline/);
    (await helper.request().post(`${BASE}/${tb.id}/rpc`).send({ device: "Pump 1" })).body.code.should.equal("method-required");
    (await helper.request().post(`${BASE}/${tb.id}/command`).send({ device: "Pump 1", method: "x" })).body.code.should.equal("unsupported");
    (await helper.request().post(`${BASE}/${tb.id}/attributes`).send({ device: "Pump 1", values: [] })).body.code.should.equal("values-required");
  });

  it("ThingsPanel: a command and an attribute set to a sub-device, answered by the flow", async () => {
    await load([]);
    const tp = await start("thingspanel");
    const { node, credentials } = gatewayFor(tp);
    await load(
      [
        node,
        { id: "rpc", type: "rpc-in", gateway: "gw", target: "devices", devices: "", methods: "", autoAnswer: "5000", wires: [["res"]] },
        { id: "res", type: "rpc-response", gateway: "", wires: [] },
        { id: "attr", type: "attribute-in", gateway: "gw", target: "devices", devices: "", keys: "", wires: [["h"]] },
        { id: "h", type: "helper" },
      ],
      credentials,
    );
    for (const end = Date.now() + 10000; !((await helper.request().get(`${BASE}/${tp.id}`)).body as Info).gatewayConnected; ) {
      if (Date.now() > end) throw new Error("the gateway-config did not connect to the ThingsPanel test platform");
      await new Promise((r) => setTimeout(r, 50));
    }
    (await devices(tp.id)).map((d) => d.name).should.eql(["", "sensor_001", "line-2", "line-2/sensor_101"]);
    let cmd;
    for (const end = Date.now() + 5000; ; ) {
      cmd = await helper.request().post(`${BASE}/${tp.id}/command`).send({ device: "line-2/sensor_101", method: "Calibrate", params: { offset: 0.5 }, timeout: 1000 });
      if (cmd.status === 200 || Date.now() > end) break; // until the gateway's subscriptions are in place
      await new Promise((r) => setTimeout(r, 50));
    }
    cmd.status.should.equal(200, JSON.stringify(cmd.body));
    cmd.body.delivered.should.be.true();
    cmd.body.response.should.have.properties({ result: 0 });
    const got = new Promise<Record<string, unknown>>((resolve) => helper.getNode("h").once("input", resolve));
    const set = await helper.request().post(`${BASE}/${tp.id}/attributes`).send({ device: "sensor_001", values: { sampling_rate: 10 } });
    set.status.should.equal(200, JSON.stringify(set.body));
    set.body.response.should.have.properties({ result: 0 });
    const msg = await got;
    should(msg.payload).eql({ sampling_rate: 10 });
    (await helper.request().post(`${BASE}/${tp.id}/command`).send({ device: "sensor_999", method: "x" })).body.code.should.equal("unknown-device");
  });

  it("Watson IoT: a command reaches the flow, and its reply event comes back as the answer", async () => {
    await load([]);
    const wt = await start("watson");
    const { node, credentials } = gatewayFor(wt);
    await load(
      [
        node,
        { id: "rpc", type: "rpc-in", gateway: "gw", target: "devices", devices: "", methods: "", autoAnswer: "5000", wires: [["ans"]] },
        { id: "ans", type: "change", rules: [{ t: "set", p: "payload", pt: "msg", to: '{"ok": true}', tot: "json" }], wires: [["res"]] },
        { id: "res", type: "rpc-response", gateway: "", wires: [] },
        { id: "in1", type: "inject", props: [{ p: "payload", v: '{"temperature": 20}', vt: "json" }, { p: "device", v: "sensor-1", vt: "str" }], repeat: "", once: false, wires: [["tel"]] },
        { id: "tel", type: "telemetry-out", gateway: "gw", device: "device", deviceType: "msg", profile: "sensor", profileType: "str", autoConnect: true, wires: [] },
      ],
      credentials,
    );
    for (const end = Date.now() + 10000; !((await helper.request().get(`${BASE}/${wt.id}`)).body as Info).gatewayConnected; ) {
      if (Date.now() > end) throw new Error("the gateway-config did not connect to the Watson test platform");
      await new Promise((r) => setTimeout(r, 50));
    }
    helper.getNode("in1").receive({});
    let list: DeviceView[] = [];
    for (const end = Date.now() + 10000; !(list = await devices(wt.id)).some((d) => d.name === "sensor/sensor-1" && d.count > 0); ) {
      if (Date.now() > end) throw new Error(`no event of sensor/sensor-1 listed: ${JSON.stringify(list)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    list.find((d) => d.name === "sensor/sensor-1")!.latest!.values.should.have.properties({ temperature: 20 });
    list.find((d) => d.gateway)!.name.should.equal("gateway-type/gateway-1");
    const cmd = await helper.request().post(`${BASE}/${wt.id}/command`).send({ device: "sensor/sensor-1", method: "setInterval", params: { seconds: 10 } });
    cmd.status.should.equal(200, JSON.stringify(cmd.body));
    cmd.body.should.have.properties({ delivered: true });
    should(cmd.body.response).eql({ ok: true });
    (await helper.request().post(`${BASE}/${wt.id}/command`).send({ device: "sensor-1", method: "x" })).body.code.should.equal("watson-device");
  });

  it("ThingsBoard: a gateway-config that provisions itself gets its credentials from the test platform's key and secret", async () => {
    await load([]);
    const tb = await start("thingsboard");
    const { node } = gatewayFor(tb);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "iotgw-tp-provision-"));
    await load(
      [
        // a folder of its own: what a provisioning gave is kept there too, and would be reused
        { ...node, auth: "provision", provisionDevice: "Provisioned gateway", provisionType: "ACCESS_TOKEN", storePath: dir },
        { id: "in1", type: "inject", props: [{ p: "payload", v: '{"t": 1}', vt: "json" }, { p: "device", v: "Sensor P1", vt: "str" }], repeat: "", once: false, wires: [["tel"]] },
        { id: "tel", type: "telemetry-out", gateway: "gw", device: "device", deviceType: "msg", profile: "", profileType: "str", autoConnect: true, wires: [] },
      ],
      { gw: { provisionKey: tb.use.provisionKey, provisionSecret: tb.use.provisionSecret } },
    );
    helper.getNode("in1").receive({});
    let list: DeviceView[] = [];
    await eventually(async () => (list = await devices(tb.id)).some((d) => d.name === "Sensor P1" && d.count > 0), "Sensor P1's telemetry through the provisioned gateway");
    list.filter((d) => d.gateway).map((d) => d.name).should.containEql("Provisioned gateway");
    await helper.unload();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("every platform stops when Node-RED's server closes", async () => {
    await load([]);
    const tb = await start("thingsboard");
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
    await eventually(async () => !(await portOpen(tb.port)), "the platform's port to close", 5000);
    // the next Node-RED of this process starts with none
    await new Promise<void>((r) => helper.startServer(() => r()));
    await load([]);
    (await helper.request().get(BASE)).body.platforms.should.eql([]);
  });
});

describe("test platform: a platform left running", function () {
  this.timeout(20000);

  it("keeps only its latest history, and stops its sweeper when the last platform stops", async () => {
    const platforms = new TestPlatforms({ keep: 3, everyMs: 20 });
    const tb = await platforms.start("thingsboard");
    const client = await mqtt.connectAsync(tb.url, { username: "GATEWAY_TOKEN", protocolVersion: 4, reconnectPeriod: 0 });
    try {
      for (let i = 0; i < 10; i++) await client.publishAsync("v1/gateway/telemetry", JSON.stringify({ "Pump 1": [{ ts: 1000 + i, values: { n: i } }] }), { qos: 1 });
      const seen = () => platforms.devices(tb.id).find((d) => d.name === "Pump 1");
      for (const end = Date.now() + 5000; (seen()?.count ?? 0) !== 3; ) {
        if (Date.now() > end) throw new Error(`history not cut back to 3: ${JSON.stringify(seen())}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      // the latest is what is kept
      should(seen()!.latest).eql({ ts: 1009, values: { n: 9 } });
    } finally {
      await client.endAsync();
      await platforms.stop(tb.id);
    }
    should((platforms as unknown as { sweeper?: unknown }).sweeper).be.undefined();
  });
});
