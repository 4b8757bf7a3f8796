// The package's nodes in a real Node-RED runtime against the Watson IoT emulator: device events,
// commands and their reply events, notifications ending the msg they report, the identity rules
// and the platform's limits as catchable errors, a reconnect.
import should from "should";
import { WatsonEmulator, NOTIFY } from "../../emulator/watson";
import { gatewayNode, helper, nextMsg, nodes, until, type FlowNode } from "../support/red";

type Msg = Record<string, unknown>;

const eventOut = require("../../nodes/event-out");
const catchNode = require("@node-red/nodes/core/common/25-catch.js");
const completeNode = require("@node-red/nodes/core/common/24-complete.js");

const GW = { watsonOrg: "abc123", watsonType: "gateway-type", watsonId: "gateway-1" };

function load(flow: FlowNode[], credentials: Record<string, unknown> = { gw: { token: "GATEWAY_TOKEN" } }): Promise<void> {
  const onTab = flow.map((n) => (n.type === "gateway-config" ? n : { x: 100, y: 100, ...n, z: "flow" }));
  const all = [{ id: "flow", type: "tab", label: "test" }, ...onTab];
  return new Promise((resolve, reject) => helper.load([...Object.values(nodes), eventOut, catchNode, completeNode], all, credentials, (err?: Error) => (err ? reject(err) : resolve())));
}

function flow(url: string, gw: Record<string, unknown> = {}): FlowNode[] {
  const scope = ["tel", "evt", "gwevt", "attr", "answer", "telc", "evtc"];
  return [
    { id: "tel", type: "telemetry-out", gateway: "gw", device: "device", deviceType: "msg", profile: "sensor", profileType: "str", autoConnect: true, wires: [] },
    { id: "evt", type: "event-out", gateway: "gw", target: "device", device: "device", deviceType: "msg", method: "method", methodType: "msg", wires: [] },
    { id: "gwevt", type: "event-out", gateway: "gw", target: "gateway", device: "", deviceType: "str", method: "status", methodType: "str", wires: [] },
    { id: "attr", type: "attribute-out", gateway: "gw", device: "device", deviceType: "msg", profile: "", profileType: "str", autoConnect: true, wires: [] },
    // As a flow moved from node-red-contrib-ibm-watson-iot leaves them: everything from the msg.
    { id: "telc", type: "telemetry-out", gateway: "gw", device: "", deviceType: "msg", profile: "", profileType: "msg", autoConnect: true, wires: [] },
    { id: "evtc", type: "event-out", gateway: "gw", target: "device", device: "", deviceType: "msg", method: "", methodType: "msg", wires: [] },
    { id: "rpc", type: "rpc-in", gateway: "gw", target: "both", devices: "", methods: "", autoAnswer: "", wires: [["cmds"]] },
    { id: "answer", type: "rpc-response", gateway: "", wires: [] },
    { id: "cmds", type: "helper" },
    { id: "catch", type: "catch", scope, uncaught: false, wires: [["errors"]] },
    { id: "complete", type: "complete", scope, uncaught: false, wires: [["completed"]] },
    { id: "errors", type: "helper" },
    { id: "completed", type: "helper" },
    gatewayNode(url, { platform: "watson", ...GW, ...gw }),
  ];
}

let ended: Array<{ ok: boolean; msg: Msg }> = [];

function watchEnds(): void {
  ended = [];
  helper.getNode("completed").on("input", (m: Msg) => ended.push({ ok: true, msg: m }));
  helper.getNode("errors").on("input", (m: Msg) => ended.push({ ok: false, msg: m }));
}

async function end(node: string, msg: Msg): Promise<{ ok: boolean; msg: Msg }> {
  const before = ended.length;
  helper.getNode(node).receive(msg);
  await until(() => ended.length > before, 8000, `the end of a msg at ${node}`);
  return ended[before];
}

async function done(node: string, msg: Msg): Promise<Msg> {
  const e = await end(node, msg);
  if (!e.ok) throw new Error(`expected done(), got ${JSON.stringify((e.msg.error as { message: unknown }).message)}`);
  return e.msg;
}

async function failed(node: string, msg: Msg): Promise<string> {
  const e = await end(node, msg);
  if (e.ok) throw new Error("expected done(err), got done()");
  return String((e.msg.error as { message: string }).message);
}

describe("Watson IoT nodes in a Node-RED runtime against the Watson emulator", function () {
  let emu: WatsonEmulator;

  async function start(opts: Parameters<typeof WatsonEmulator.start>[0] = {}, gw: Record<string, unknown> = {}): Promise<void> {
    emu = await WatsonEmulator.start(opts);
    await load(flow(emu.url, gw));
    watchEnds();
    await until(() => emu.gatewayConnected() && emu.subscribed("iot-2/type/+/id/+/cmd/+/fmt/+") && emu.subscribed("iot-2/type/gateway-type/id/gateway-1/notify"), 5000, "gateway connection and subscriptions");
  }

  beforeEach(async () => {
    await new Promise<void>((r) => helper.startServer(() => r()));
  });

  afterEach(async () => {
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
    await emu?.stop();
  });

  it("connects as g:org:type:id over MQTT 3.1.1 (even when v5 is chosen) and sends device events as {d, ts}", async () => {
    await start({}, { protocolVersion: "5" });
    await done("tel", { device: "s1", payload: { temperature: 21.5 }, ts: 1700000000000 });
    await done("evt", { device: "s1", method: "alarm", payload: { level: 2 } });
    await done("gwevt", { payload: { up: true } });
    emu.events("sensor", "s1").map((e) => [e.event, e.payload]).should.eql([
      ["telemetry", { d: { temperature: 21.5 }, ts: "2023-11-14T22:13:20.000Z" }],
      ["alarm", { d: { level: 2 }, ts: (emu.events("sensor", "s1")[1].payload as { ts: string }).ts }],
    ]);
    should((emu.events("gateway-type", "gateway-1")[0].payload as { d: unknown }).d).eql({ up: true });
    emu.registered("sensor", "s1").should.be.true();
    emu.violations().should.eql([]);
    // A gateway-config saved before the managed gateway existed (no watsonManaged) is not managed.
    emu.subscribed("iotdm-1/type/+/id/+/#").should.be.false();
    emu.dmRequests().should.eql([]);
  });

  it("refuses ids the platform would refuse, attributes, and packets over 131,072 bytes, before sending them", async () => {
    await start({}, { maxPayload: 1000000 }); // more than Watson takes: its own limit holds
    (await failed("tel", { device: "bad id", payload: { t: 1 } })).should.match(/only letters, digits/);
    (await failed("tel", { device: "x".repeat(37), payload: { t: 1 } })).should.match(/at most 36/);
    (await failed("attr", { device: "s1", payload: { fw: "1.0" } })).should.match(/attribute-out\.errors\.watson$/); // the test runtime shows catalogue keys
    (await failed("tel", { device: "s1", payload: { blob: "x".repeat(140000) } })).should.match(/over the limit of 131072 bytes per packet/);
    (await failed("evt", { device: "nobody-knows-my-type", method: "e", payload: {} })).should.match(/needs the device type of "nobody-knows-my-type"/);
    emu.events().should.eql([]);
    emu.violations().should.eql([]);
    emu.gatewayConnected().should.be.true();
  });

  it("a notification ends the msg it reports with a catchable error carrying RC and Message; the other msgs are done", async () => {
    await start({ maxDevicesPerGateway: 1 });
    await done("tel", { device: "s1", payload: { t: 1 } });
    const err = await failed("tel", { device: "s2", payload: { t: 2 } });
    err.should.match(new RegExp(`RC ${NOTIFY.gatewayMax.rc}`)).and.match(/Maximum number of devices per gateway has been reached/).and.match(/500 devices/);
    await done("tel", { device: "s1", payload: { t: 3 } });
    emu.events().map((e) => e.id).should.eql(["s1", "s1"]);
  });

  it("a failed auto-registration is a catchable error, and so is the organisation's device limit", async () => {
    await start({ maxDevicesPerOrg: 2 }); // the gateway and s1
    emu.failRegistration("sensor", "f1");
    (await failed("tel", { device: "f1", payload: { t: 1 } })).should.match(/Failed to create device due to internal errors/).and.match(/RC 500/);
    await done("tel", { device: "s1", payload: { t: 1 } });
    (await failed("tel", { device: "s2", payload: { t: 1 } })).should.match(/Maximum number of devices per organization/);
  });

  it("commands reach rpc-in (device and gateway), and rpc-response answers with a {command}-reply event", async () => {
    await start();
    await done("tel", { device: "s1", payload: { t: 1 } });
    const next = nextMsg("cmds");
    emu.command("sensor", "s1", "setRate", { rate: 5 }).should.equal(1);
    const cmd = await next;
    cmd.should.match({ device: "s1", method: "setRate", payload: { rate: 5 } });
    await done("answer", { ...cmd, payload: { ok: true } });
    const reply = await emu.waitFor(() => emu.events("sensor", "s1").find((e) => e.event === "setRate-reply"), 3000, "reply event");
    should((reply.payload as { d: unknown }).d).eql({ ok: true });
    const gwNext = nextMsg("cmds");
    emu.command("gateway-type", "gateway-1", "restart", "now", "text");
    const g = await gwNext;
    should(g.device).be.undefined();
    g.should.match({ method: "restart", payload: "now" });
  });

  it("msgs shaped for node-red-contrib-ibm-watson-iot work: deviceType, deviceId, eventType / event, {d} payloads, command msgs", async () => {
    await start();
    await done("evtc", { deviceType: "meter", deviceId: "m1", eventType: "status", format: "json", payload: { d: { kwh: 7 } } });
    await done("evtc", { deviceType: "meter", deviceId: "m1", event: "power", payload: { w: 300 } });
    await done("telc", { deviceType: "meter", deviceId: "m2", payload: { v: 230 } });
    emu.events("meter", "m1").map((e) => [e.event, (e.payload as { d: unknown }).d]).should.eql([["status", { kwh: 7 }], ["power", { w: 300 }]]);
    should(emu.events("meter", "m1")[0].payload).eql({ d: { kwh: 7 } }); // already wrapped: not wrapped again
    emu.events("meter", "m2").length.should.equal(1);
    const next = nextMsg("cmds");
    emu.command("meter", "m1", "reset", { all: true });
    (await next).should.match({ command: "reset", deviceType: "meter", deviceId: "m1", format: "json", device: "m1", method: "reset", payload: { all: true } });
  });

  it("attribute-out and attribute-in refuse Watson IoT at deploy: a red status and an error saying what to use instead", async () => {
    emu = await WatsonEmulator.start();
    const extra: FlowNode[] = [{ id: "attrin", type: "attribute-in", gateway: "gw", devices: "", updates: true, device: "", deviceType: "msg", keys: "", scope: "shared", timeout: "5", fetchOnConnect: false, wires: [] }];
    await load([...flow(emu.url), ...extra]);
    for (const [id, type] of [["attr", "attribute-out"], ["attrin", "attribute-in"]]) {
      const n = helper.getNode(id) as unknown as { status: { args: Array<[{ fill?: string; text?: string }]> }; error: { args: unknown[][] } };
      n.status.args.map((a) => a[0]).should.containEql({ fill: "red", shape: "ring", text: `${type}.errors.watson-short` });
      n.error.args.map((a) => a[0]).should.containEql(`${type}.errors.watson`);
      // Whatever status the session has later, it stays red: the node never registered with the gateway.
      n.status.args[n.status.args.length - 1][0].should.match({ fill: "red" });
    }
    const catalogue = (t: string): Record<string, string> => (require(`../../nodes/locales/en-US/${t}.json`) as Record<string, { errors: Record<string, string> }>)[t].errors;
    catalogue("attribute-out").watson.should.match(/telemetry-out or event-out/).and.match(/device-connect \(msg.metadata/);
    catalogue("attribute-in").watson.should.match(/commands, which rpc-in receives/);
  });

  it("a gateway identity the platform would refuse is reported at deploy and ends every msg with that reason; nothing connects", async () => {
    emu = await WatsonEmulator.start();
    await load(flow(emu.url, { watsonType: "gateway type" }));
    watchEnds();
    (await failed("tel", { device: "s1", payload: { t: 1 } })).should.match(/the gateway's device type "gateway type" may contain only letters, digits/);
    emu.gatewayConnected().should.be.false();
  });

  it("after the server drops the connection the gateway reconnects, subscribes again, and its devices' events arrive", async () => {
    await start();
    await done("tel", { device: "s1", payload: { t: 1 } });
    emu.drop();
    await until(() => !emu.gatewayConnected(), 3000, "the drop");
    await until(() => emu.gatewayConnected() && emu.subscribed("iot-2/type/gateway-type/id/gateway-1/notify"), 8000, "the reconnect");
    await done("tel", { device: "s1", payload: { t: 2 } });
    emu.events("sensor", "s1").map((e) => (e.payload as { d: { t: number } }).d.t).should.eql([1, 2]);
  });
});
