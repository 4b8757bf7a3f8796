// The gateway's statistics as telemetry of the gateway device itself, checked against what the
// flow sent and what the server received.
import should from "should";
import { ThingsBoardEmulator } from "../../emulator/thingsboard";
import { collect, gatewayNode, helper, load, until, type FlowNode } from "../support/red";

function flow(url: string, gw: Record<string, unknown> = {}): FlowNode[] {
  return [
    { id: "tel", type: "telemetry-out", gateway: "gw", device: "device", deviceType: "msg", profile: "", profileType: "str", autoConnect: true },
    { id: "catch", type: "catch", scope: ["tel"], uncaught: false, wires: [["errors"]] },
    { id: "complete", type: "complete", scope: ["tel"], uncaught: false, wires: [["completed"]] },
    { id: "errors", type: "helper" },
    { id: "completed", type: "helper" },
    gatewayNode(url, gw),
  ];
}

describe("gateway device: statistics telemetry against the ThingsBoard emulator", function () {
  this.timeout(30000);
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

  it("reports msgs and points in, publishes and bytes out (as the server counted them), latency, waiting and losses on v1/devices/me/telemetry", async () => {
    await load(flow(emu.url, { statsPeriod: "10" }));
    const tel = helper.getNode("tel");
    const completed = collect("completed");
    const errors = collect("errors");
    await until(() => emu.gatewayConnected(), 5000, "gateway connection");
    tel.receive({ device: "Boiler", payload: { temperature: 21.5, on: true } });
    tel.receive({ device: "Boiler", payload: [{ ts: 1700000000000, values: { temperature: 22 } }, { ts: 1700000001000, values: { temperature: 23 } }] });
    tel.receive({ device: "Pump", payload: { rpm: 1200 } });
    tel.receive({ device: "Pump", payload: { rpm: 10n } }); // a BigInt cannot be sent: refused at the node
    await until(() => completed.length === 3 && errors.length === 1, 5000, "3 msgs done, 1 refused");
    // Everything the server received before the first report, as it counted it.
    const server = { ...emu.counters };
    const report = await emu.waitFor(() => emu.telemetry("Gateway")[0], 15000);
    report.serverTs.should.be.false();
    const v = report.values as Record<string, number>;
    v.should.have.properties({
      msgsIn: 4,
      pointsIn: 6, // the refused msg's point came in too
      publishesOut: server.publishes,
      bytesOut: server.bytes,
      reconnects: 0,
      droppedMsgs: 0,
      refusedMsgs: 0,
      invalidMsgs: 1,
      rateLimitWaitMs: 0,
      waitingMsgs: 0,
      oldestWaitingAgeMs: 0,
      devices: 2,
      periodS: 10,
    });
    v.pubackP50Ms.should.be.a.Number().and.not.below(0);
    v.pubackP99Ms.should.be.a.Number().and.not.below(v.pubackP50Ms);
    should(v).not.have.property("waitingBytes"); // the memory store counts msgs, not bytes
    // Charged to the gateway's own bucket, on its own topic.
    emu.journal().filter((j) => j.kind === "telemetry" && j.device === "Gateway").map((j) => j.topic).should.eql(["v1/devices/me/telemetry"]);
  });

  it("counts the reconnects and the msgs lost to the outbox bound (gateway_stats shows the same figures)", async () => {
    await load(flow(emu.url, { statsPeriod: "10", maxQueued: 1 }));
    const tel = helper.getNode("tel");
    const errors = collect("errors");
    const completed = collect("completed");
    await until(() => emu.gatewayConnected(), 5000, "gateway connection");
    // Three msgs in one tick: the first waits for the batch window, the two others find the bound hit.
    tel.receive({ device: "Boiler", payload: { t: 1 } });
    tel.receive({ device: "Boiler", payload: { t: 2 } });
    tel.receive({ device: "Boiler", payload: { t: 3 } });
    await until(() => completed.length === 1 && errors.length === 2, 5000, "1 done, 2 refused");
    emu.dropGateway();
    // Subscribed again once it asks for its limits.
    await until(() => emu.journal().filter((j) => j.kind === "gatewayRpc").length === 2, 5000, "reconnect");
    const answer = (await emu.callGatewayRpc("gateway_stats")) as { code: number; resp: Record<string, unknown> };
    answer.code.should.equal(200);
    answer.resp.should.have.properties({ msgsIn: 3, pointsIn: 3, droppedMsgs: 2, reconnects: 1, connected: true, devices: 1 });
    const report = await emu.waitFor(() => emu.telemetry("Gateway")[0], 15000);
    report.values.should.have.properties({ msgsIn: 3, pointsIn: 3, droppedMsgs: 2, reconnects: 1 });
  });
});
