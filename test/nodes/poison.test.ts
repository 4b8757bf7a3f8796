// A msg the server answers by closing the connection must cost that msg alone. Known poisons are
// refused when accepted (what is validated is what is sent, serialised once at accept time); for
// the unforeseen, the outbox isolates the publish the server keeps closing on and ends only its
// msg, with a catchable error, so the session delivers the rest instead of looping for good.
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

/** A value that passes every check on its fields (it has none) and throws when serialised. */
class Exploding {
  toJSON(): never {
    throw new Error("this sensor value cannot be serialised");
  }
}

/** A value whose toJSON gives nothing: JSON.stringify would drop its key without a word. */
class Vanishing {
  toJSON(): undefined {
    return undefined;
  }
}

describe("poison msgs cost only themselves", function () {
  this.timeout(60000);
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

  it("fails a value whose toJSON throws at its own node, and delivers every other msg of the same batch", async () => {
    await load(flow(emu.url, { batchWindow: 50 }));
    const tel = helper.getNode("tel");
    const completed = collect("completed");
    const errors = collect("errors");
    await until(() => emu.gatewayConnected(), 5000, "gateway connection");
    for (let i = 0; i < 100; i++) {
      const payload: Record<string, unknown> = { n: i };
      if (i === 40) payload.bad = new Exploding();
      if (i === 60) payload.gone = new Vanishing();
      tel.receive({ device: `M${i % 5}`, payload });
    }
    await until(() => completed.length + errors.length === 100, 15000, "every msg ended");
    errors.should.have.length(2);
    const messages = errors.map((e) => (e.error as { message: string }).message).join("\n");
    messages.should.match(/"bad" cannot be sent as JSON: this sensor value cannot be serialised/);
    messages.should.match(/"gone" cannot be sent as JSON: it serialises to nothing/);
    let n = 0;
    for (let d = 0; d < 5; d++) n += emu.telemetry(`M${d}`).length;
    n.should.equal(98);
    emu.closedReasons().should.eql([]);
  });

  it("isolates the one msg the server keeps closing the connection on, ends it with an error, and delivers the other 199", async () => {
    await load(flow(emu.url, { batchWindow: 50 }));
    const tel = helper.getNode("tel");
    const completed = collect("completed");
    const errors = collect("errors");
    await until(() => emu.gatewayConnected(), 5000, "gateway connection");
    // The server closes the connection on any publish that contains this string.
    emu.poisonPublishes("UNFORESEEN");
    for (let i = 0; i < 200; i++) tel.receive({ device: `M${i % 4}`, payload: { n: i, note: i === 123 ? "UNFORESEEN" : "ok" } });
    await until(() => completed.length + errors.length === 200, 50000, "every msg ended");
    errors.should.have.length(1);
    should((errors[0].error as { message: string }).message).match(/the server closed the connection each time this msg was sent/);
    let n = 0;
    for (let d = 0; d < 4; d++) n += emu.telemetry(`M${d}`).length;
    n.should.equal(199);
    // and the session goes on: new data arrives without another close
    const closes = emu.closedReasons().length;
    closes.should.be.above(2);
    tel.receive({ device: "After", payload: { ok: 1 } });
    await until(() => emu.telemetry("After").length === 1, 5000, "later telemetry");
    emu.closedReasons().length.should.equal(closes);
  });
});
