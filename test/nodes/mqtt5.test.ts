// The same session over MQTT 5: status reasons from CONNACK reason codes, delivery, re-announce.
import should from "should";
import { ThingsBoardEmulator } from "../../emulator/thingsboard";
import { collect, gatewayNode, helper, load, until, type FlowNode } from "../support/red";

function statusText(id: string): string {
  const s = (helper.getNode(id) as unknown as { status: { lastCall?: { args: Array<{ text?: string }> } } }).status;
  return s.lastCall?.args[0]?.text ?? "";
}

describe("gateway-config over MQTT 5", function () {
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

  const flow = (): FlowNode[] => [
    { id: "tel", type: "telemetry-out", gateway: "gw", device: "device", deviceType: "msg", profile: "Meter", profileType: "str", autoConnect: true },
    { id: "complete", type: "complete", scope: ["tel"], uncaught: false, wires: [["completed"]] },
    { id: "completed", type: "helper" },
    gatewayNode(emu.url, { protocolVersion: "5" }),
  ];

  it("delivers telemetry and announces its devices again after a drop", async () => {
    await load(flow());
    await until(() => emu.gatewayConnected(), 5000, "gateway connection");
    emu.gatewayProtocolVersion()!.should.equal(5);
    const completed = collect("completed");
    helper.getNode("tel").receive({ device: "M1", payload: { kwh: 1 } });
    await until(() => completed.length === 1, 5000, "first msg done");
    emu.dropGateway();
    await until(() => emu.gatewayConnections() === 2 && emu.device("M1")?.connected, 8000, "M1 announced again");
    helper.getNode("tel").receive({ device: "M1", payload: { kwh: 2 } });
    await until(() => completed.length === 2, 5000, "second msg done");
    emu.telemetry("M1").map((p) => p.values.kwh).should.eql([1, 2]);
    should(emu.device("M1")).have.property("profile", "Meter");
  });

  it("shows 'not authorised' from the CONNACK reason code", async () => {
    await load(flow(), { gw: { token: "WRONG" } });
    await until(() => /not authorised|bad credentials/.test(statusText("tel")), 5000, "refusal in status");
    emu.gatewayConnected().should.be.false();
  });
});

describe("MQTT 5 answers from the server", function () {
  let emu: ThingsBoardEmulator;
  const warnings: string[] = [];

  beforeEach(async () => {
    emu = await ThingsBoardEmulator.start();
    await new Promise<void>((r) => helper.startServer(() => r()));
  });

  afterEach(async () => {
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
    await emu.stop();
  });

  const flow = (): FlowNode[] => [
    { id: "tel", type: "telemetry-out", gateway: "gw", device: "device", deviceType: "msg", profile: "", profileType: "str", autoConnect: true },
    { id: "complete", type: "complete", scope: ["tel"], uncaught: false, wires: [["completed"]] },
    { id: "completed", type: "helper" },
    { id: "catch", type: "catch", scope: ["tel"], uncaught: false, wires: [["errors"]] },
    { id: "errors", type: "helper" },
    gatewayNode(emu.url, { protocolVersion: "5", batchWindow: 1 }),
  ];

  it("ends the msg the server refused (PUBACK reason code) with a catchable error, and recovers after the server closes", async () => {
    await load(flow());
    await until(() => emu.gatewayConnected(), 5000, "gateway connection");
    const completed = collect("completed");
    const errors = collect("errors");
    const tel = helper.getNode("tel");
    tel.receive({ device: "M1", payload: { n: 0 } });
    await until(() => completed.length === 1, 5000, "first msg done");
    emu.refuseNextPublish("v1/gateway/telemetry", 0x99, true); // payload format invalid, then close
    tel.receive({ device: "M1", payload: { n: 1 } });
    await until(() => errors.length === 1, 5000, "the refused msg's error");
    should((errors[0].error as { message: string }).message).match(/telemetry-out: the server refused it: .*Payload format invalid/i);
    await until(() => emu.gatewayConnections() === 2 && emu.gatewayConnected(), 8000, "reconnected");
    tel.receive({ device: "M1", payload: { n: 2 } });
    await until(() => completed.length === 2, 5000, "next msg done");
    emu.telemetry("M1").map((p) => p.values.n).should.eql([0, 2]);
  });

  it("sends a msg refused for a rate limit (QUOTA_EXCEEDED: not about the msg) again after the reconnect, and loses nothing", async () => {
    await load(flow());
    await until(() => emu.gatewayConnected(), 5000, "gateway connection");
    const completed = collect("completed");
    const errors = collect("errors");
    const tel = helper.getNode("tel");
    emu.refuseNextPublish("v1/gateway/telemetry", 0x97, true);
    tel.receive({ device: "M1", payload: { n: 1 } });
    await until(() => completed.length === 1, 8000, "the msg done after the reconnect");
    errors.should.be.empty();
    emu.gatewayConnections().should.equal(2);
    emu.telemetry("M1").map((p) => p.values.n).should.eql([1]);
  });

  it("follows the server's v1/gateway/disconnect notice: a warning, the device disconnected, announced again with its next data", async () => {
    await load(flow());
    await until(() => emu.gatewayConnected(), 5000, "gateway connection");
    const gw = helper.getNode("gw") as unknown as { warn: (m: string) => void };
    const warn = gw.warn.bind(gw);
    warnings.length = 0;
    gw.warn = (m: string) => {
      warnings.push(m);
      warn(m);
    };
    const completed = collect("completed");
    const tel = helper.getNode("tel");
    tel.receive({ device: "Pump", payload: { rpm: 1 } });
    await until(() => completed.length === 1, 5000, "first msg done");
    emu.notifyDeviceDisconnected("Pump", 150);
    await until(() => warnings.some((w) => /the server disconnected "Pump" \(reason 150\)/.test(w)), 5000, "the warning");
    should(emu.device("Pump")).have.property("connected", false);
    tel.receive({ device: "Pump", payload: { rpm: 2 } });
    await until(() => completed.length === 2, 5000, "next msg done");
    should(emu.device("Pump")).have.property("connected", true);
    const j = emu.journal().filter((e) => e.device === "Pump" && e.topic === "v1/gateway/connect");
    // announced at first, and again after the notice (plus once per reconnect, if a loaded machine had one)
    j.length.should.equal(1 + emu.gatewayConnections());
  });
});
