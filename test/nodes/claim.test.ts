import { ThingsBoardEmulator } from "../../emulator/thingsboard";
import { collect, gatewayNode, helper, load, nextMsg, until, type FlowNode } from "../support/red";

function flow(url: string, claim: Partial<FlowNode> = {}, gw: Record<string, unknown> = {}): FlowNode[] {
  return [
    { id: "claim", type: "claim", gateway: "gw", device: "device", deviceType: "msg", secretKey: "", secretKeyType: "str", duration: "", durationType: "str", ...claim },
    { id: "catch", type: "catch", scope: ["claim"], uncaught: false, wires: [["errors"]] },
    { id: "complete", type: "complete", scope: ["claim"], uncaught: false, wires: [["completed"]] },
    { id: "dc", type: "device-connect", gateway: "gw", device: "device", deviceType: "msg", profile: "", profileType: "str", action: "connect", wires: [["connected"]] },
    { id: "connected", type: "helper" },
    { id: "errors", type: "helper" },
    { id: "completed", type: "helper" },
    gatewayNode(url, gw),
  ];
}

describe("claim in a Node-RED runtime against the ThingsBoard emulator", function () {
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

  it("opens the claiming window with the node's secret key and duration, done after the PUBACK", async () => {
    await load(flow(emu.url, { secretKey: "s3cret", duration: "60000" }));
    await until(() => emu.gatewayConnected(), 5000, "gateway connection");
    const done = nextMsg("completed");
    helper.getNode("claim").receive({ device: "Meter" });
    await done;
    emu.claims("Meter").should.eql([{ secretKey: "s3cret", durationMs: 60000 }]);
  });

  it("takes the secret key and duration from the msg, both optional, and merges several devices into one publish", async () => {
    await load(flow(emu.url, {}, { batchWindow: 100 }));
    await until(() => emu.gatewayConnected(), 5000, "gateway connection");
    await until(() => emu.journal().some((j) => j.kind === "gatewayRpc"), 3000, "getSessionLimits");
    for (const device of ["A", "B", "C"]) {
      const out = nextMsg("connected");
      helper.getNode("dc").receive({ device });
      await out;
    }
    const before = emu.counters.publishes;
    const completed = collect("completed");
    const claim = helper.getNode("claim");
    claim.receive({ device: "A", secretKey: "k", durationMs: 30000 });
    claim.receive({ device: "B", secretKey: "only-key" });
    claim.receive({ device: "C" });
    await until(() => completed.length === 3, 5000, "3 done");
    emu.claims("A").should.eql([{ secretKey: "k", durationMs: 30000 }]);
    emu.claims("B").should.eql([{ secretKey: "only-key" }]);
    emu.claims("C").should.eql([{}]);
    (emu.counters.publishes - before).should.equal(1);
  });

  for (const [what, msg, re] of [
    ["no device", { secretKey: "k" }, /^claim: no device/],
    ["a negative duration", { device: "A", durationMs: -5 }, /claim duration must be a positive whole number of ms/],
    ["a duration that is not a number", { device: "A", durationMs: "soon" }, /claim duration must be a positive whole number of ms, got NaN/],
    ["a secret key that is not a string", { device: "A", secretKey: 42 }, /the secret key must be a string, got number/],
  ] as Array<[string, Record<string, unknown>, RegExp]>) {
    it(`answers ${what} with a catchable error`, async () => {
      await load(flow(emu.url));
      await until(() => emu.gatewayConnected(), 5000, "gateway connection");
      const err = nextMsg("errors");
      helper.getNode("claim").receive(msg);
      ((await err).error as { message: string }).message.should.match(re);
      emu.closedReasons().should.be.empty();
    });
  }
});
