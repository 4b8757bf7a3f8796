// The package's nodes in a real Node-RED runtime against the ThingsPanel emulator: every topic of
// the spec's two tables, acks and their failures and timeouts, one response per message id,
// nested sub-gateways, reconnect.
import should from "should";
import { ThingsPanelEmulator } from "../../emulator/thingspanel";
import { ThingsBoardEmulator } from "../../emulator/thingsboard";
import { collect, gatewayNode, helper, nextMsg, nodes, until, type FlowNode } from "../support/red";

type Msg = Record<string, unknown>;

const eventOut = require("../../nodes/event-out");
const changeNode = require("@node-red/nodes/core/function/15-change.js");
const catchNode = require("@node-red/nodes/core/common/25-catch.js");
const completeNode = require("@node-red/nodes/core/common/24-complete.js");

const DN = "GW-0001";

function tpGateway(url: string, extra: Record<string, unknown> = {}): FlowNode {
  return gatewayNode(url, { platform: "thingspanel", deviceNumber: DN, ackTimeout: "2", ...extra });
}

function load(flow: FlowNode[], credentials: Record<string, unknown> = { gw: { token: "GATEWAY_TOKEN" } }): Promise<void> {
  const onTab = flow.map((n) => (n.type === "gateway-config" ? n : { x: 100, y: 100, ...n, z: "flow" }));
  const all = [{ id: "flow", type: "tab", label: "test" }, ...onTab];
  return new Promise((resolve, reject) => helper.load([...Object.values(nodes), eventOut, changeNode, catchNode, completeNode], all, credentials, (err?: Error) => (err ? reject(err) : resolve())));
}

/** The out nodes, each with Catch and Complete watching it. */
function outFlow(url: string, gw: Partial<FlowNode> = {}): FlowNode[] {
  const scope = ["tel", "attr", "evt", "gwevt"];
  return [
    { id: "tel", type: "telemetry-out", gateway: "gw", device: "device", deviceType: "msg", profile: "", profileType: "str", autoConnect: true, wires: [] },
    { id: "attr", type: "attribute-out", gateway: "gw", device: "device", deviceType: "msg", profile: "", profileType: "str", autoConnect: true, wires: [] },
    { id: "evt", type: "event-out", gateway: "gw", target: "device", device: "device", deviceType: "msg", method: "method", methodType: "msg", wires: [] },
    { id: "gwevt", type: "event-out", gateway: "gw", target: "gateway", device: "", deviceType: "str", method: "SystemStarted", methodType: "str", wires: [] },
    { id: "catch", type: "catch", scope, uncaught: false, wires: [["errors"]] },
    { id: "complete", type: "complete", scope, uncaught: false, wires: [["completed"]] },
    { id: "errors", type: "helper" },
    { id: "completed", type: "helper" },
    tpGateway(url, gw),
  ];
}

/** Every msg that ended, in order: done() (Complete) or done(err) (Catch), after the flow is loaded. */
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

describe("ThingsPanel nodes in a Node-RED runtime against the ThingsPanel emulator", function () {
  let emu: ThingsPanelEmulator;

  beforeEach(async () => {
    emu = await ThingsPanelEmulator.start({ subDevices: { [DN]: ["sensor_001", "line-2/sensor_101", "a/b/c/d/e"] } });
    await new Promise<void>((r) => helper.startServer(() => r()));
  });

  afterEach(async () => {
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
    await emu.stop();
  });

  it("subscribes to each of the gateway's topics with one topic per SUBSCRIBE and breaks no broker rule", async () => {
    await load(outFlow(emu.url, { keepalive: 600 }));
    await until(() => emu.gatewayConnected(), 5000, "gateway connection");
    for (const t of [`gateway/telemetry/control/${DN}`, `gateway/attributes/set/${DN}/x`, `gateway/attributes/get/${DN}`, `gateway/command/${DN}/x`, `gateway/attributes/response/${DN}/x`, `gateway/event/response/${DN}/x`, `devices/attributes/response/${DN}/x`, `devices/event/response/${DN}/x`]) {
      await until(() => emu.subscribed(t), 3000, `subscription for ${t}`);
    }
    // keepalive 600 in the config is capped at the broker's 300 s
    emu.violations().should.eql([]);
  });

  it("telemetry-out: sub-devices by address and nested sub-gateways by path reach ThingsPanel; unknown addresses are skipped", async () => {
    await load(outFlow(emu.url));
    watchEnds();
    await until(() => emu.gatewayConnected(), 5000, "gateway connection");
    await done("tel", { device: "sensor_001", payload: { temperature: 24 } });
    await done("tel", { device: "line-2/sensor_101", payload: { temperature: 27.5 } });
    await done("tel", { device: "a/b/c/d/e", payload: { deep: 1 } });
    await done("tel", { device: "ghost", payload: { t: 1 } });
    emu.telemetry("sensor_001").map((p) => p.values).should.eql([{ temperature: 24 }]);
    emu.telemetry("line-2/sensor_101").map((p) => p.values).should.eql([{ temperature: 27.5 }]);
    emu.telemetry("a/b/c/d/e").map((p) => p.values).should.eql([{ deep: 1 }]);
    emu.journal().some((j) => j.kind === "skipped" && (j.detail as { address: string }).address === "ghost").should.be.true();
    (await failed("tel", { device: "a/b/c/d/e/f", payload: { t: 1 } })).should.match(/depth of 5/);
    (await failed("tel", { device: "x".repeat(37), payload: { t: 1 } })).should.match(/longer than 36/);
  });

  it("telemetry-out and attribute-out for the gateway itself: gateway_data, no device named", async () => {
    const flow = outFlow(emu.url);
    flow.push({ id: "gwtel", type: "telemetry-out", gateway: "gw", target: "gateway", device: "", deviceType: "str", profile: "", profileType: "str", autoConnect: true, wires: [] });
    flow.push({ id: "gwattr", type: "attribute-out", gateway: "gw", target: "gateway", device: "", deviceType: "str", profile: "", profileType: "str", autoConnect: true, wires: [] });
    for (const n of flow) if (n.type === "catch" || n.type === "complete") (n.scope as string[]).push("gwtel", "gwattr");
    await load(flow);
    watchEnds();
    await until(() => emu.gatewayConnected(), 5000, "gateway connection");
    await done("gwtel", { payload: { cpu: 12.5 } });
    await done("gwattr", { payload: { version: "1.0.0" } });
    emu.telemetry("").map((p) => p.values).should.eql([{ cpu: 12.5 }]);
    emu.attributes("").should.eql({ version: "1.0.0" });
    emu.journal().find((j) => j.kind === "telemetry")!.detail!.should.eql({ gateway_data: { cpu: 12.5 } });
  });

  it("telemetry-out: points with their own ts go out in time order, one real-time envelope each (the server stamps them)", async () => {
    await load(outFlow(emu.url));
    watchEnds();
    await until(() => emu.gatewayConnected(), 5000, "gateway connection");
    await done("tel", { device: "sensor_001", payload: [{ ts: 3000, values: { n: 3 } }, { ts: 1000, values: { n: 1 } }, { ts: 2000, values: { n: 2 } }] });
    emu.telemetry("sensor_001").map((p) => p.values.n).should.eql([1, 2, 3]);
    emu.journal().filter((j) => j.kind === "dropped").should.be.empty();
  });

  it("attribute-out is done when ThingsPanel acks the message id on devices/… (the backend) or gateway/… (the spec)", async () => {
    await load(outFlow(emu.url));
    watchEnds();
    await until(() => emu.gatewayConnected(), 5000, "gateway connection");
    await done("attr", { device: "sensor_001", payload: { ip: "192.168.1.101" } });
    emu.attributes("sensor_001").should.eql({ ip: "192.168.1.101" });
    emu.ackMode = "gateway";
    await done("attr", { device: "line-2/sensor_101", payload: { version: "1.2.0" } });
    emu.attributes("line-2/sensor_101").should.eql({ version: "1.2.0" });
  });

  it("an ack with result 1 ends the msg with a catchable error carrying errcode and message", async () => {
    await load(outFlow(emu.url));
    watchEnds();
    await until(() => emu.gatewayConnected(), 5000, "gateway connection");
    emu.failNextAck("attributes", "ATTR_INVALID", "attribute not allowed");
    (await failed("attr", { device: "sensor_001", payload: { ip: "x" } })).should.match(/ATTR_INVALID: attribute not allowed/);
    emu.failNextAck("event", "EVT_BAD");
    (await failed("evt", { device: "sensor_001", method: "Alarm", payload: {} })).should.match(/EVT_BAD/);
  });

  it("no ack within the gateway's ack timeout ends the msg with a catchable error, never a hang", async () => {
    await load(outFlow(emu.url, { ackTimeout: "0.3" }));
    watchEnds();
    await until(() => emu.gatewayConnected(), 5000, "gateway connection");
    emu.ackMode = "none";
    (await failed("attr", { device: "sensor_001", payload: { ip: "x" } })).should.match(/no acknowledgement from the platform within 300 ms/);
    (await failed("gwevt", { payload: {} })).should.match(/no acknowledgement/);
  });

  it("event-out: events of a sub-device and of the gateway itself reach ThingsPanel, done on the ack", async () => {
    await load(outFlow(emu.url));
    watchEnds();
    await until(() => emu.gatewayConnected(), 5000, "gateway connection");
    await done("evt", { device: "sensor_001", method: "AlarmTriggered", payload: { level: "high" } });
    await done("evt", { device: "line-2/sensor_101", topic: "Opened", payload: { door: 1 } });
    await done("gwevt", { payload: { version: "1.0.0" } });
    emu.events("sensor_001").map((e) => [e.method, e.params]).should.eql([["AlarmTriggered", { level: "high" }]]);
    emu.events("line-2/sensor_101").map((e) => e.method).should.eql(["Opened"]);
    emu.events("").map((e) => [e.method, e.params]).should.eql([["SystemStarted", { version: "1.0.0" }]]);
    (await failed("evt", { device: "sensor_001", payload: {} })).should.match(/no event method/);
  });

  it("delivers after a reconnect: a report in flight when the connection drops is sent again and acked", async () => {
    await load(outFlow(emu.url));
    watchEnds();
    await until(() => emu.gatewayConnected(), 5000, "gateway connection");
    emu.ackMode = "none";
    helper.getNode("attr").receive({ device: "sensor_001", payload: { fw: "2" } });
    await until(() => emu.journal().some((j) => j.kind === "attributes"), 3000, "the first report");
    emu.ackMode = "devices";
    emu.drop();
    await until(() => ended.length === 1, 8000, "the msg's end");
    ended[0].ok.should.be.true();
    emu.attributes("sensor_001").should.eql({ fw: "2" });
    emu.journal().filter((j) => j.kind === "connected").length.should.be.aboveOrEqual(2);
  });

  describe("downlinks", () => {
    const answerRule = { t: "set", p: "payload", pt: "msg", to: '$exists(payload.fail) ? {"error": "cannot " & method} : {"ok": true}', tot: "jsonata" };

    function downFlow(url: string, rpcIn: Partial<FlowNode> = {}): FlowNode[] {
      return [
        { id: "rpc", type: "rpc-in", gateway: "gw", target: "both", devices: "", methods: "", autoAnswer: "", wires: [["seen", "fn"]], ...rpcIn },
        { id: "fn", type: "change", rules: [answerRule], wires: [["answer"]] },
        { id: "answer", type: "rpc-response", gateway: "", wires: [] },
        { id: "ain", type: "attribute-in", gateway: "gw", device: "", deviceType: "str", devices: "", keys: "", scope: "shared", timeout: "5", updates: true, fetchOnConnect: false, wires: [["attrs"]] },
        { id: "seen", type: "helper" },
        { id: "attrs", type: "helper" },
        tpGateway(url),
      ];
    }

    it("a command to the gateway and two sub-devices: one rpc-in msg each, and ONE response for the message id", async () => {
      await load(downFlow(emu.url));
      await until(() => emu.subscribed(`gateway/command/${DN}/x`), 5000, "command subscription");
      const seen = collect("seen");
      const response = emu.command({
        gateway_data: { method: "Restart", params: { delay: 5 } },
        sub_device_data: { sensor_001: { method: "Calibrate", params: { offset: 0.5 } } },
        sub_gateway_data: { "line-2": { sub_device_data: { sensor_101: { method: "Reset", params: {} } } } },
      });
      should(await response).have.properties({ result: 0, message: "success" });
      seen.map((m) => [m.device, m.method]).should.eql([[undefined, "Restart"], ["sensor_001", "Calibrate"], ["line-2/sensor_101", "Reset"]]);
      await new Promise((r) => setTimeout(r, 200));
      emu.journal().filter((j) => j.kind === "response").should.have.length(1);
    });

    it("any device's failure makes the one response result 1 with the first error", async () => {
      await load(downFlow(emu.url));
      await until(() => emu.subscribed(`gateway/command/${DN}/x`), 5000, "command subscription");
      const r = (await emu.command({ sub_device_data: { sensor_001: { method: "Calibrate", params: { fail: 1 } }, "line-2": { method: "Ok", params: {} } } })) as Record<string, unknown>;
      r.should.have.properties({ result: 1, errcode: "cannot Calibrate" });
    });

    it("rpc-in's auto-answer answers the command itself when the flow does not", async () => {
      await load(downFlow(emu.url, { autoAnswer: "300", wires: [["seen"]] }));
      await until(() => emu.subscribed(`gateway/command/${DN}/x`), 5000, "command subscription");
      const r = (await emu.command({ sub_device_data: { sensor_001: { method: "Calibrate", params: {} } } })) as Record<string, unknown>;
      r.should.have.properties({ result: 1, method: "Calibrate" });
      String(r.errcode).should.match(/no answer from the flow within 300 ms/);
    });

    it("an attribute set reaches attribute-in per sub-device and is answered on its response topic", async () => {
      await load(downFlow(emu.url));
      await until(() => emu.subscribed(`gateway/attributes/set/${DN}/x`), 5000, "attribute set subscription");
      const attrs = collect("attrs");
      const r = await emu.setAttributes({ sub_device_data: { sensor_001: { sampling_rate: 10 } }, sub_gateway_data: { "line-2": { sub_device_data: { sensor_101: { ip: "10.0.0.2" } } } } });
      should(r).have.properties({ result: 0, message: "success" });
      await until(() => attrs.length === 2, 3000, "two attribute-in msgs");
      attrs.map((m) => [m.device, m.payload]).should.eql([["sensor_001", { sampling_rate: 10 }], ["line-2/sensor_101", { ip: "10.0.0.2" }]]);
    });

    it("an attribute set for the gateway itself is answered result 1 with the reason, never acknowledged as applied", async () => {
      await load(downFlow(emu.url));
      await until(() => emu.subscribed(`gateway/attributes/set/${DN}/x`), 5000, "attribute set subscription");
      const attrs = collect("attrs");
      const r = await emu.setAttributes({ gateway_data: { mode: "eco" }, sub_device_data: { sensor_001: { sampling_rate: 5 } } });
      should(r).have.properties({ result: 1 });
      String((r as { message?: unknown }).message).should.match(/gateway's own attributes .* reach no node/);
      await until(() => attrs.length === 1, 3000, "the sub-device's attribute-in msg");
      attrs.map((m) => [m.device, m.payload]).should.eql([["sensor_001", { sampling_rate: 5 }]]);
    });

    it("an attribute query reaches attribute-in (payload: the keys, [] = all); the flow answers with attribute-out", async () => {
      const flow = downFlow(emu.url);
      (flow.find((n) => n.id === "ain") as FlowNode).wires = [["attrs", "reply"]];
      flow.push({ id: "reply", type: "change", rules: [{ t: "set", p: "payload", pt: "msg", to: '{"ip": "10.0.0.1", "asked": $count(payload)}', tot: "jsonata" }], wires: [["aout"]] });
      flow.push({ id: "aout", type: "attribute-out", gateway: "gw", device: "device", deviceType: "msg", profile: "", profileType: "str", autoConnect: true, wires: [] });
      await load(flow);
      await until(() => emu.subscribed(`gateway/attributes/get/${DN}`), 5000, "attribute get subscription");
      const attrs = collect("attrs");
      emu.getAttributes({ sub_device_data: { sensor_001: ["ip"] }, sub_gateway_data: { "line-2": { sub_device_data: { sensor_101: [] } } } }).should.be.true();
      await until(() => attrs.length === 2, 3000, "two query msgs");
      attrs.map((m) => [m.device, m.payload, m.source]).should.eql([["sensor_001", ["ip"], "query"], ["line-2/sensor_101", [], "query"]]);
      await until(() => emu.attributes("sensor_001").ip === "10.0.0.1", 3000, "the answer stored");
      emu.attributes("sensor_001").should.eql({ ip: "10.0.0.1", asked: 1 });
    });

    it("telemetry control reaches rpc-in as method telemetry_control", async () => {
      await load(downFlow(emu.url));
      await until(() => emu.subscribed(`gateway/telemetry/control/${DN}`), 5000, "control subscription");
      const seen = nextMsg("seen");
      emu.control({ sub_device_data: { sensor_001: { switch: false } } }).should.be.true();
      (await seen).should.have.properties({ device: "sensor_001", method: "telemetry_control", payload: { switch: false } });
      await new Promise((r) => setTimeout(r, 200));
      emu.journal().filter((j) => j.kind === "response" || j.kind === "unknown topic").should.be.empty(); // control has no answer on the wire
    });
  });
});

describe("event-out and the gateway itself against the ThingsBoard emulator", function () {
  let emu: ThingsBoardEmulator;
  beforeEach(async () => {
    emu = await ThingsBoardEmulator.start();
    await new Promise<void>((r) => helper.startServer(() => r()));
  });
  afterEach(async () => {
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
    await emu.stop();
  });

  it("ThingsBoard has no events: each msg ends with a catchable error saying so, nothing is published", async () => {
    await load([...outFlow(emu.url).filter((n) => n.type !== "gateway-config"), gatewayNode(emu.url)]);
    watchEnds();
    await until(() => emu.gatewayConnected(), 5000, "gateway connection");
    (await failed("evt", { device: "Pump", method: "Alarm", payload: {} })).should.match(/ThingsBoard has no events/);
    (await failed("gwevt", { payload: {} })).should.match(/ThingsBoard has no events/);
    emu.devices().should.be.empty();
  });

  it("telemetry-out and attribute-out for the gateway itself go to v1/devices/me/telemetry and v1/devices/me/attributes", async () => {
    const flow = [...outFlow(emu.url).filter((n) => n.type !== "gateway-config"), gatewayNode(emu.url)];
    flow.push({ id: "gwtel", type: "telemetry-out", gateway: "gw", target: "gateway", device: "", deviceType: "str", profile: "", profileType: "str", autoConnect: true, wires: [] });
    flow.push({ id: "gwattr", type: "attribute-out", gateway: "gw", target: "gateway", device: "", deviceType: "str", profile: "", profileType: "str", autoConnect: true, wires: [] });
    for (const n of flow) if (n.type === "catch" || n.type === "complete") (n.scope as string[]).push("gwtel", "gwattr");
    await load(flow);
    watchEnds();
    await until(() => emu.gatewayConnected(), 5000, "gateway connection");
    await done("gwtel", { payload: { cpu: 12.5 }, ts: 1700000000000 });
    await done("gwattr", { payload: { fw: "1.2" } });
    const name = emu.gateways()[0].name;
    emu.telemetry(name).map((p) => [p.ts, p.values]).should.eql([[1700000000000, { cpu: 12.5 }]]);
    emu.clientAttributes(name).should.eql({ fw: "1.2" });
    emu.devices().should.be.empty(); // no sub-device named for it
  });
});
