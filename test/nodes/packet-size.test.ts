// ThingsBoard checks a PUBLISH against its max message size by the packet's remaining length
// (topic + packet id + MQTT 5 properties + payload), not by the payload alone, and closes the
// connection when it is over. A gateway that splits only its payloads under the limit sends the
// same oversize packets again after every reconnect and never delivers (protocols/thingsboard.md).
import should from "should";
import { ThingsBoardEmulator } from "../../emulator/thingsboard";
import { collect, gatewayNode, helper, load, until, type FlowNode } from "../support/red";

function flow(url: string, gw: Record<string, unknown>): FlowNode[] {
  return [
    { id: "tel", type: "telemetry-out", gateway: "gw", device: "device", deviceType: "msg", profile: "", profileType: "str", autoConnect: true },
    { id: "catch", type: "catch", scope: ["tel"], uncaught: false, wires: [["errors"]] },
    { id: "complete", type: "complete", scope: ["tel"], uncaught: false, wires: [["completed"]] },
    { id: "errors", type: "helper" },
    { id: "completed", type: "helper" },
    gatewayNode(url, gw),
  ];
}

for (const version of ["4", "5"]) {
  describe(`packets under the server's limit by remaining length (MQTT ${version === "5" ? "5" : "3.1.1"})`, function () {
    let emu: ThingsBoardEmulator;

    beforeEach(async () => {
      emu = await ThingsBoardEmulator.start({ maxPayload: 4096 });
      await new Promise<void>((r) => helper.startServer(() => r()));
    });

    afterEach(async () => {
      await helper.unload();
      await new Promise<void>((r) => helper.stopServer(() => r()));
      await emu.stop();
    });

    it("delivers a batch whose payloads alone would just fit, without a single closed connection", async () => {
      // 200 msgs of ~90-byte points merge into payloads cut at the limit: a split that ignores the
      // topic and packet id makes packets up to 20 bytes over 4,096.
      await load(flow(emu.url, { protocolVersion: version, maxPayload: 4096, batchWindow: 50 }));
      const tel = helper.getNode("tel");
      const completed = collect("completed");
      const errors = collect("errors");
      await until(() => emu.gatewayConnected(), 5000, "gateway connection");
      const n = 200;
      for (let i = 0; i < n; i++) tel.receive({ device: `Meter ${i % 10}`, ts: 1700000000000 + i, payload: { reading: i, label: "x".repeat(40 + (i % 7)) } });
      await until(() => completed.length + errors.length === n, 15000, "every msg ended");
      errors.should.have.length(0);
      emu.closedReasons().should.eql([]);
      emu.gatewayConnections().should.equal(1);
      let points = 0;
      for (let d = 0; d < 10; d++) points += emu.telemetry(`Meter ${d}`).length;
      points.should.equal(n);
    });

    it("refuses, at its own node, one point too large for any packet, and delivers the rest", async () => {
      await load(flow(emu.url, { protocolVersion: version, maxPayload: 4096 }));
      const tel = helper.getNode("tel");
      const completed = collect("completed");
      const errors = collect("errors");
      await until(() => emu.gatewayConnected(), 5000, "gateway connection");
      // A payload of exactly 4,090 bytes: under the limit as a payload, over it as a packet.
      const overhead = '{"Big":[{"ts":1700000000000,"values":{"blob":""}}]}'.length;
      tel.receive({ device: "Big", ts: 1700000000000, payload: { blob: "y".repeat(4090 - overhead) } });
      tel.receive({ device: "Small", payload: { ok: 1 } });
      await until(() => completed.length + errors.length === 2, 10000, "both msgs ended");
      errors.should.have.length(1);
      should((errors[0].error as { message: string }).message).match(/over the server's limit/);
      emu.telemetry("Small").should.have.length(1);
      emu.closedReasons().should.eql([]);
    });
  });
}
