import should from "should";
import { ThingsBoardEmulator } from "../../emulator/thingsboard";
import type { GatewayConfigNode } from "../../nodes/common/gateway-types";
import { collect, gatewayNode, helper, load, nextMsg, until, type FlowNode } from "../support/red";

type Msg = Record<string, unknown>;

function flow(url: string, attrIn: Partial<FlowNode> = {}, gw: Record<string, unknown> = {}): FlowNode[] {
  return [
    { id: "out", type: "attribute-out", gateway: "gw", device: "device", deviceType: "msg", profile: "", profileType: "str", autoConnect: true },
    { id: "in", type: "attribute-in", gateway: "gw", devices: "", updates: true, device: "device", deviceType: "msg", keys: "", scope: "shared", timeout: "20", fetchOnConnect: false, wires: [["got"]], ...attrIn },
    { id: "dc", type: "device-connect", gateway: "gw", device: "device", deviceType: "msg", profile: "", profileType: "str", action: "connect", wires: [["connected"]] },
    { id: "got", type: "helper" },
    { id: "connected", type: "helper" },
    { id: "catch", type: "catch", scope: ["out", "in"], uncaught: false, wires: [["errors"]] },
    { id: "complete", type: "complete", scope: ["out", "in"], uncaught: false, wires: [["completed"]] },
    { id: "errors", type: "helper" },
    { id: "completed", type: "helper" },
    gatewayNode(url, gw),
  ];
}

function message(m: Msg): string {
  return (m.error as { message: string }).message;
}

describe("attribute-out and attribute-in in a Node-RED runtime against the ThingsBoard emulator", function () {
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

  async function connect(...devices: string[]): Promise<void> {
    await until(() => emu.gatewayConnected(), 5000, "gateway connection");
    for (const device of devices) {
      const out = nextMsg("connected");
      helper.getNode("dc").receive({ device });
      await out;
    }
  }

  describe("attribute-out", () => {
    it("stores client attributes of the device from msg.device or the node, done after the PUBACK", async () => {
      await load(flow(emu.url));
      await connect();
      const done = nextMsg("completed");
      helper.getNode("out").receive({ device: "Meter", payload: { fw: "1.2", model: { v: 2 }, on: true } });
      await done;
      emu.clientAttributes("Meter").should.eql({ fw: "1.2", model: { v: 2 }, on: true });
    });

    it("merges many devices' updates within the batch window into one publish", async () => {
      await load(flow(emu.url, {}, { batchWindow: 100 }).map((n) => (n.id === "out" ? { ...n, autoConnect: false } : n)));
      await connect();
      await until(() => emu.journal().some((j) => j.kind === "gatewayRpc"), 3000, "getSessionLimits");
      const before = emu.counters.publishes;
      const completed = collect("completed");
      for (let i = 0; i < 30; i++) helper.getNode("out").receive({ device: `Meter ${i}`, payload: { serial: `S${i}`, slot: i } });
      await until(() => completed.length === 30, 5000, "30 done");
      (emu.counters.publishes - before).should.be.below(3);
      for (let i = 0; i < 30; i++) emu.clientAttributes(`Meter ${i}`).should.eql({ serial: `S${i}`, slot: i });
    });

    const invalid: Array<[string, Msg, RegExp]> = [
      ["no device", { payload: { a: 1 } }, /attribute-out: no device/],
      ["a string payload", { device: "D", payload: "x" }, /msg.payload must be an object of \{key: value\}, got string/],
      ["an array payload", { device: "D", payload: [1] }, /got array/],
      ["empty values", { device: "D", payload: {} }, /has no values/],
      ["NaN", { device: "D", payload: { a: NaN } }, /value of "a" must be a finite number, got NaN/],
      ["an oversize value", { device: "D", payload: { blob: "x".repeat(70000) } }, /over the server's limit of 65536/],
    ];
    for (const [what, msg, re] of invalid) {
      it(`answers ${what} with a catchable error while the session stays up`, async () => {
        await load(flow(emu.url));
        await connect();
        const err = nextMsg("errors");
        helper.getNode("out").receive(msg);
        message(await err).should.match(re);
        const ok = nextMsg("completed");
        helper.getNode("out").receive({ device: "D", payload: { fine: 1 } });
        await ok;
        emu.clientAttributes("D").should.eql({ fine: 1 });
        emu.closedReasons().should.be.empty();
        emu.gatewayConnections().should.equal(1);
      });
    }

    it("respects the max payload the server gives in getSessionLimits", async () => {
      await emu.stop();
      emu = await ThingsBoardEmulator.start({ maxPayload: 1024 });
      await load(flow(emu.url, {}, { maxPayload: 65536, batchWindow: 50 }));
      await connect();
      const gw = helper.getNode("gw") as unknown as GatewayConfigNode;
      await until(() => gw.session().limits, 3000, "session limits");
      gw.session().outbox.maxPayload.should.equal(1024);
      const completed = collect("completed");
      for (let i = 0; i < 200; i++) helper.getNode("out").receive({ device: `Meter ${i % 10}`, payload: { [`k${i}`]: "v".repeat(20) } });
      await until(() => completed.length === 200, 10000, "200 done");
      emu.closedReasons().should.be.empty();
      emu.gatewayConnections().should.equal(1);
      Object.keys(emu.clientAttributes("Meter 3")).should.have.length(20);
      // one value larger than the server's limit is refused before it could cost the session
      const err = nextMsg("errors");
      helper.getNode("out").receive({ device: "D", payload: { blob: "x".repeat(2000) } });
      message(await err).should.match(/over the server's limit of 1024/);
    });
  });

  describe("attribute-in: updates", () => {
    it("outputs shared-attribute updates and deletions of the devices it watches", async () => {
      await load([...flow(emu.url, { devices: "A" }), { id: "all", type: "attribute-in", gateway: "gw", devices: "", updates: true, device: "", deviceType: "str", keys: "", scope: "shared", timeout: "", fetchOnConnect: false, wires: [["every"]] }, { id: "every", type: "helper" }]);
      await connect("A", "B");
      const got = collect("got");
      const every = collect("every");
      emu.setSharedAttributes("A", { interval: 5, mode: "eco" });
      emu.setSharedAttributes("B", { interval: 9 });
      emu.deleteSharedAttributes("A", ["mode"]);
      await until(() => every.length === 3 && got.length === 2, 3000, "updates");
      got.map((m) => [m.device, m.payload, m.deleted, m.source]).should.eql([
        ["A", { interval: 5, mode: "eco" }, [], "update"],
        ["A", {}, ["mode"], "update"],
      ]);
      every.map((m) => m.device).should.eql(["A", "B", "A"]);
    });

    it("still outputs updates after the emulator drops the gateway and it reconnects", async () => {
      await load(flow(emu.url, { devices: "A" }));
      await connect("A");
      emu.dropGateway();
      await until(() => emu.gatewayConnections() === 2 && emu.device("A")?.connected, 8000, "reconnect and re-announce");
      const got = nextMsg("got");
      emu.setSharedAttributes("A", { interval: 7 }).should.be.true();
      (await got).should.have.properties({ device: "A", payload: { interval: 7 } });
    });

    it("fetches the watched shared attributes whenever a device is connected, and again after a reconnect", async () => {
      await load(flow(emu.url, { devices: "A", keys: "interval, mode", fetchOnConnect: true }));
      await until(() => emu.gatewayConnected(), 5000, "gateway connection");
      await connect("B"); // not watched
      const first = nextMsg("got");
      const dc = nextMsg("connected");
      helper.getNode("dc").receive({ device: "A" });
      await dc;
      (await first).should.have.properties({ device: "A", payload: {}, source: "fetch" });
      emu.setSharedAttributes("A", { interval: 3 });
      await nextMsg("got"); // the update
      emu.sharedAttributes("A").should.eql({ interval: 3 });
      emu.dropGateway();
      const again = await nextMsg("got", 8000);
      again.should.have.properties({ device: "A", payload: { interval: 3 }, source: "fetch" });
      // none for the unwatched B; one before the drop, and after it the one-of-two-keys answer
      // (a bare value) is named by asking key by key
      const j = emu.journal();
      const drop = j.find((e) => e.kind === "gatewayDisconnected")!.seq;
      const requests = j.filter((e) => e.kind === "attributeRequest");
      requests.filter((e) => e.seq < drop).map((e) => [e.device, (e.detail as { keys: string[] }).keys]).should.eql([["A", ["interval", "mode"]]]);
      requests.filter((e) => e.seq > drop).map((e) => [e.device, (e.detail as { keys: string[] }).keys]).should.eql([["A", ["interval", "mode"]], ["A", ["interval"]], ["A", ["mode"]]]);
    });

    it("follows a rename: the watcher of the old name gets the device's updates under its new name", async () => {
      await load(flow(emu.url, { devices: "A" }));
      await connect("A");
      should(await emu.renameDevice("A", "A2")).eql({ success: true });
      const got = nextMsg("got");
      emu.setSharedAttributes("A2", { interval: 1 });
      (await got).should.have.properties({ device: "A2", payload: { interval: 1 } });
    });
  });

  describe("attribute-in: requests", () => {
    async function ask(msg: Msg): Promise<Msg> {
      const got = nextMsg("got");
      helper.getNode("in").receive(msg);
      return got;
    }

    it("outputs {key: value} whichever of value/values the server used, for one, several or all keys, in either scope", async () => {
      await load(flow(emu.url, { updates: false }));
      await connect("A");
      const attrs = nextMsg("completed");
      helper.getNode("out").receive({ device: "A", payload: { fw: "1.0", model: "X" } });
      await attrs;
      emu.setSharedAttributes("A", { interval: 5, mode: "eco" });
      (await ask({ device: "A", keys: "interval" })).should.have.properties({ device: "A", payload: { interval: 5 }, source: "request" });
      (await ask({ device: "A", keys: ["interval", "mode"] })).payload!.should.eql({ interval: 5, mode: "eco" });
      (await ask({ device: "A", keys: "fw", scope: "client" })).payload!.should.eql({ fw: "1.0" });
      (await ask({ device: "A", keys: "fw,model", scope: "client" })).payload!.should.eql({ fw: "1.0", model: "X" });
      (await ask({ device: "A", keys: [] })).payload!.should.eql({ fw: "1.0", model: "X", interval: 5, mode: "eco" });
      // several keys of which one exists: the server sends a bare value; the session names it
      (await ask({ device: "A", keys: ["interval", "missing"] })).payload!.should.eql({ interval: 5 });
      (await ask({ device: "A", keys: "missing" })).payload!.should.eql({});
    });

    it("uses the node's device, keys and scope when the msg gives none", async () => {
      await load(flow(emu.url, { updates: false, device: "A", deviceType: "str", keys: "fw", scope: "client" }));
      await connect("A");
      const attrs = nextMsg("completed");
      helper.getNode("out").receive({ device: "A", payload: { fw: "2.0" } });
      await attrs;
      (await ask({ payload: "go" })).should.have.properties({ device: "A", payload: { fw: "2.0" } });
    });

    it("ends a request the server never answers with a catchable timeout error", async () => {
      await load(flow(emu.url, { updates: false, timeout: "0.3" }));
      await connect("A");
      emu.failAttributeLookups("A");
      const err = nextMsg("errors");
      const got = collect("got");
      helper.getNode("in").receive({ device: "A", keys: "interval" });
      message(await err).should.match(/attribute-in: attribute request for "A": no answer within 300 ms/);
      got.should.be.empty();
      emu.failAttributeLookups("A", false);
      (await ask({ device: "A", keys: "interval" })).payload!.should.eql({});
    });

    it("answers a request without a device, bad keys or a bad scope with a catchable error", async () => {
      await load(flow(emu.url, { updates: false }));
      await connect();
      for (const [msg, re] of [
        [{ keys: "a" }, /attribute-in: no device/],
        [{ device: "A", keys: [1] }, /msg.keys must be/],
        [{ device: "A", scope: "server" }, /msg.scope must be "client" or "shared"/],
      ] as Array<[Msg, RegExp]>) {
        const err = nextMsg("errors");
        helper.getNode("in").receive(msg);
        message(await err).should.match(re);
      }
    });
  });
});
