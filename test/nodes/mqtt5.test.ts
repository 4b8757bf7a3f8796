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
