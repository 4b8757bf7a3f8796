import should from "should";
import { ThingsBoardEmulator } from "../../emulator/thingsboard";
import { collect, gatewayNode, helper, load, nextMsg, until, type FlowNode } from "../support/red";

function flow(url: string, extra: Partial<FlowNode> = {}, gw: Record<string, unknown> = {}): FlowNode[] {
  return [
    { id: "tel", type: "telemetry-out", gateway: "gw", device: "device", deviceType: "msg", profile: "Thermometer", profileType: "str", autoConnect: true, ...extra },
    { id: "catch", type: "catch", scope: ["tel"], uncaught: false, wires: [["errors"]] },
    { id: "complete", type: "complete", scope: ["tel"], uncaught: false, wires: [["completed"]] },
    { id: "errors", type: "helper" },
    { id: "completed", type: "helper" },
    gatewayNode(url, gw),
  ];
}

describe("telemetry-out in a Node-RED runtime against the ThingsBoard emulator", function () {
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

  it("connects the device with its profile before its first data, and accepts every payload form", async () => {
    await load(flow(emu.url));
    const tel = helper.getNode("tel");
    const completed = collect("completed");
    await until(() => emu.gatewayConnected(), 5000, "gateway connection");
    tel.receive({ device: "Boiler 1", ts: 1700000000000, payload: { temperature: 21.5, on: true } });
    tel.receive({ device: "Boiler 1", payload: { ts: 1700000001000, values: { temperature: 22 } } });
    tel.receive({ device: "Boiler 1", payload: [{ ts: 1700000002000, values: { temperature: 23 } }, { temperature: 24 }], ts: 1700000003000 });
    tel.receive({ device: "", payload: { "Pump A": [{ ts: 1700000004000, values: { rpm: 1200 } }], "Pump B": [{ rpm: 900 }] } });
    await until(() => completed.length === 4, 5000, "4 msgs done");
    const boiler = emu.device("Boiler 1");
    should(boiler).have.properties({ profile: "Thermometer", gateway: "Gateway" });
    emu.telemetry("Boiler 1").map((p) => [p.ts, p.values]).should.eql([
      [1700000000000, { temperature: 21.5, on: true }],
      [1700000001000, { temperature: 22 }],
      [1700000002000, { temperature: 23 }],
      [1700000003000, { temperature: 24 }],
    ]);
    emu.telemetry("Pump A").map((p) => [p.ts, p.values]).should.eql([[1700000004000, { rpm: 1200 }]]);
    emu.telemetry("Pump B").should.have.length(1);
    emu.telemetry("Pump B")[0].values.should.eql({ rpm: 900 });
    emu.telemetry("Pump B")[0].serverTs.should.be.false(); // stamped by the gateway, not the server
    should(emu.device("Pump B")).have.property("profile", "Thermometer");
    const connects = emu.journal().filter((j) => j.kind === "connect").map((j) => j.device);
    connects.should.containDeep(["Boiler 1", "Pump A", "Pump B"]);
    const firstTelemetry = emu.journal().findIndex((j) => j.kind === "telemetry");
    const boilerConnect = emu.journal().findIndex((j) => j.kind === "connect" && j.device === "Boiler 1");
    boilerConnect.should.be.below(firstTelemetry);
  });

  it("calls done only after the server acknowledged the data", async () => {
    await load(flow(emu.url));
    await until(() => emu.gatewayConnected(), 5000, "gateway connection");
    const done = nextMsg("completed");
    helper.getNode("tel").receive({ device: "D", payload: { n: 1 } });
    await done;
    emu.telemetry("D").should.have.length(1);
  });

  it("leaves the device to the server's auto-connect when told not to connect it", async () => {
    await load(flow(emu.url, { autoConnect: false }));
    await until(() => emu.gatewayConnected(), 5000, "gateway connection");
    const done = nextMsg("completed");
    helper.getNode("tel").receive({ device: "Quiet", payload: { n: 1 } });
    await done;
    emu.journal().filter((j) => j.topic === "v1/gateway/connect" && j.device === "Quiet").should.be.empty();
    should(emu.device("Quiet")).have.property("profile", "default");
  });

  const invalid: Array<[string, Record<string, unknown>, RegExp]> = [
    ["no device", { payload: { t: 1 } }, /telemetry-out: no device/],
    ["a string payload", { device: "D", payload: "hot" }, /msg.payload must be an object of values or an array of \{ts, values\}, got string/],
    ["empty values", { device: "D", payload: {} }, /has no values/],
    ["NaN", { device: "D", payload: { t: NaN } }, /value of "t" must be a finite number, got NaN/],
    ["Infinity", { device: "D", payload: { t: Infinity } }, /finite number, got Infinity/],
    ["a ts that is not a number", { device: "D", payload: { ts: "yesterday", values: { t: 1 } } }, /ts must be a number/],
    ["a non-object value in an array", { device: "D", payload: [{ t: 1 }, 5] }, /element 1 must be/],
    ["a non-number msg.ts", { device: "D", ts: "now", payload: { t: 1 } }, /msg.ts must be a number/],
    ["a device that is not a string", { device: 42, payload: { t: 1 } }, /device name must be a non-empty string/],
    ["an oversize single point", { device: "D", payload: { blob: "x".repeat(70000) } }, /over the server's limit of 65536/],
  ];
  for (const [what, msg, re] of invalid) {
    it(`answers ${what} with a catchable error while the session stays up`, async () => {
      await load(flow(emu.url));
      await until(() => emu.gatewayConnected(), 5000, "gateway connection");
      const err = nextMsg("errors");
      helper.getNode("tel").receive(msg);
      const caught = await err;
      should((caught.error as { message: string }).message).match(re);
      // the session is the same and still delivers
      const ok = nextMsg("completed");
      helper.getNode("tel").receive({ device: "D", payload: { fine: 1 } });
      await ok;
      emu.gatewayConnections().should.equal(1);
      emu.closedReasons().should.be.empty();
      emu.telemetry("D").map((p) => p.values).should.eql([{ fine: 1 }]);
    });
  }

  it("splits a large burst so that no publish exceeds the max payload", async () => {
    await load(flow(emu.url, {}, { maxPayload: 4096, batchWindow: 50 }));
    await until(() => emu.gatewayConnected(), 5000, "gateway connection");
    const completed = collect("completed");
    const tel = helper.getNode("tel");
    for (let i = 0; i < 2000; i++) tel.receive({ device: `Meter ${i % 20}`, ts: 1700000000000 + i, payload: { kwh: i, v: 230.1 } });
    await until(() => completed.length === 2000, 15000, "2000 msgs done");
    emu.closedReasons().should.be.empty();
    emu.gatewayConnections().should.equal(1);
    let total = 0;
    for (let d = 0; d < 20; d++) {
      const pts = emu.telemetry(`Meter ${d}`);
      total += pts.length;
      pts.map((p) => p.values.kwh).should.eql(pts.map((p) => p.values.kwh as number).sort((a, b) => a - b)); // in order per device
    }
    total.should.equal(2000);
    emu.counters.telemetryMessages.should.be.below(200); // batched, not one publish per msg
  });
});
