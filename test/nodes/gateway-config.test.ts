import should from "should";
import { ThingsBoardEmulator } from "../../emulator/thingsboard";
import { collect, gatewayNode, helper, load, nextMsg, until, type FlowNode } from "../support/red";

const telemetryNode = (id: string, extra: Record<string, unknown> = {}): FlowNode => ({ id, type: "telemetry-out", gateway: "gw", device: "device", deviceType: "msg", profile: "", profileType: "str", autoConnect: true, ...extra });

function statusOf(id: string): { fill?: string; shape?: string; text?: string } {
  const calls = (helper.getNode(id) as unknown as { status: { lastCall?: { args: unknown[] } } }).status;
  return (calls.lastCall?.args[0] ?? {}) as { fill?: string; text?: string };
}

describe("gateway-config: one session, shared, surviving drops and redeploys", function () {
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

  function base(): FlowNode[] {
    return [
      telemetryNode("tel"),
      { id: "dc", type: "device-connect", gateway: "gw", device: "device", deviceType: "msg", profile: "", profileType: "str", action: "connect", wires: [["connected"]] },
      { id: "connected", type: "helper" },
      { id: "complete", type: "complete", scope: ["tel"], uncaught: false, wires: [["completed"]] },
      { id: "completed", type: "helper" },
      { id: "catch", type: "catch", scope: ["tel", "dc"], uncaught: false, wires: [["errors"]] },
      { id: "errors", type: "helper" },
      gatewayNode(emu.url),
    ];
  }

  it("announces every registered device again after the platform drops the gateway, before anything else", async () => {
    await load(base());
    await until(() => emu.gatewayConnected(), 5000, "gateway connection");
    const dc = helper.getNode("dc");
    for (const [device, profile] of [["Pump 1", "Pump"], ["Pump 2", "Pump"], ["Valve", "Valve"]]) {
      const out = nextMsg("connected");
      dc.receive({ device, profile });
      (await out).device!.should.equal(device);
    }
    emu.dropGateway();
    await until(() => emu.gatewayConnections() === 2 && emu.gatewayConnected(), 8000, "reconnect");
    const completed = collect("completed");
    helper.getNode("tel").receive({ device: "Pump 1", payload: { rpm: 1 } });
    await until(() => completed.length === 1, 5000, "telemetry done");
    const j = emu.journal();
    const reconnectedAt = j.findIndex((e) => e.kind === "gatewayConnected" && (e.seq > j.find((x) => x.kind === "gatewayDisconnected")!.seq));
    const after = j.slice(reconnectedAt + 1).filter((e) => e.kind !== "gatewayRpc");
    after.slice(0, 3).map((e) => [e.topic, e.device]).should.eql([
      ["v1/gateway/connect", "Pump 1"],
      ["v1/gateway/connect", "Pump 2"],
      ["v1/gateway/connect", "Valve"],
    ]);
    emu.devices().filter((d) => d.connected).map((d) => d.name).sort().should.eql(["Pump 1", "Pump 2", "Valve"]);
    should(emu.device("Valve")).have.property("profile", "Valve");
  });

  it("delivers every msg sent while disconnected, in order, after the reconnect", async () => {
    await load(base().map((n) => (n.id === "gw" ? { ...n, reconnectMin: 1, reconnectMax: 2 } : n)));
    await until(() => emu.gatewayConnected(), 5000, "gateway connection");
    const completed = collect("completed");
    const tel = helper.getNode("tel");
    tel.receive({ device: "Meter", payload: { n: 0 } });
    await until(() => completed.length === 1, 5000, "first msg");
    emu.dropGateway();
    await until(() => statusOf("tel").fill === "red", 2000, "disconnected status");
    statusOf("tel").text!.should.match(/disconnected/);
    for (let n = 1; n <= 300; n++) tel.receive({ device: "Meter", payload: { n } });
    completed.length.should.equal(1); // nothing done while disconnected
    await until(() => completed.length === 301, 10000, "all 301 msgs done");
    const ns = emu.telemetry("Meter").map((p) => p.values.n);
    // at least once, in order: each n appears, and never before a smaller one that follows it
    [...new Set(ns)].should.eql(Array.from({ length: 301 }, (_, i) => i));
    statusOf("tel").should.have.properties({ fill: "green" });
  });

  it("shows why it cannot connect: a wrong token reads 'not authorised'", async () => {
    await load(base(), { gw: { token: "WRONG" } });
    await until(() => /not authorised/.test(statusOf("tel").text ?? ""), 5000, "not authorised status");
    statusOf("tel").fill!.should.equal("red");
    emu.gatewayConnected().should.be.false();
  });

  it("refuses msgs past the outbox bound with a catchable error and a status that stays over reconnect attempts", async () => {
    await load(base().map((n) => (n.id === "gw" ? { ...n, url: "mqtt://127.0.0.1:1", maxQueued: 5 } : n)));
    const errors = collect("errors");
    const tel = helper.getNode("tel");
    for (let n = 0; n < 7; n++) tel.receive({ device: "Meter", payload: { n } });
    await until(() => errors.length === 2, 3000, "2 errors");
    (errors[0].error as { message: string }).message.should.match(/telemetry-out: outbox full: 5 messages are waiting/);
    // the test runtime shows i18n keys, not their English text
    await until(() => /status.full/.test(statusOf("tel").text ?? ""), 2000, "full status");
    statusOf("tel").fill!.should.equal("red");
  });

  it("keeps the session when one node is redeployed, and closes it when its last user is removed", async () => {
    const flow = [...base(), telemetryNode("tel2")];
    await load(flow);
    await until(() => emu.gatewayConnected(), 5000, "gateway connection");
    const changed = flow.map((n) => (n.id === "tel2" ? { ...n, name: "renamed" } : n));
    await helper.setFlows(withTab(changed), "nodes");
    const completed = collect("completed");
    helper.getNode("tel").receive({ device: "Meter", payload: { n: 1 } });
    await until(() => completed.length === 1, 5000, "telemetry after redeploy");
    emu.gatewayConnections().should.equal(1);
    emu.gatewayConnected().should.be.true();
    // remove every user: the session closes
    await helper.setFlows(withTab(flow.filter((n) => n.id === "gw")), "full");
    await until(() => !emu.gatewayConnected(), 5000, "session closed");
  });
});

describe("gateway-config redeployed while disconnected", function () {
  let emu: ThingsBoardEmulator;
  before(async () => {
    emu = await ThingsBoardEmulator.start();
    await new Promise<void>((r) => helper.startServer(() => r()));
  });
  after(async () => {
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
    await emu.stop();
  });

  it("hands its unacknowledged msgs and its devices to its successor: nothing accepted is lost", async () => {
    const flow: FlowNode[] = [
      telemetryNode("tel"),
      { id: "dc", type: "device-connect", gateway: "gw", device: "device", deviceType: "msg", profile: "", profileType: "str", action: "connect", wires: [["connected"]] },
      { id: "connected", type: "helper" },
      gatewayNode(emu.url, { reconnectMin: 30, reconnectMax: 60 }),
    ];
    await load(flow);
    await until(() => emu.gatewayConnected(), 5000, "gateway connection");
    const out = nextMsg("connected");
    helper.getNode("dc").receive({ device: "Commands only", profile: "Valve" });
    await out;
    emu.dropGateway(); // and the session waits 15 s or more before trying again
    await until(() => !emu.gatewayConnected(), 2000, "dropped");
    const tel = helper.getNode("tel");
    for (let n = 0; n < 50; n++) tel.receive({ device: "Meter", payload: { n } });
    await new Promise((r) => setTimeout(r, 50));
    emu.telemetry("Meter").should.be.empty();
    // the user shortens the reconnect delay and deploys the changed gateway only
    await helper.setFlows(withTab(flow.map((n) => (n.id === "gw" ? { ...n, reconnectMin: 0.2, reconnectMax: 1 } : n))), "nodes");
    await until(() => emu.telemetry("Meter").length >= 50, 5000, "the queued msgs");
    [...new Set(emu.telemetry("Meter").map((p) => p.values.n))].should.eql(Array.from({ length: 50 }, (_, i) => i));
    should(emu.device("Commands only")).have.property("connected", true); // announced by the successor
  });
});

function withTab(flow: FlowNode[]): FlowNode[] {
  const cfg = new Set(["gateway-config"]);
  return [{ id: "flow", type: "tab", label: "test" }, ...flow.map((n) => (cfg.has(n.type) ? n : { x: 100, y: 100, ...n, z: "flow" }))];
}
