// Issue 7, items 3, 4, 9 and 10: inputs and downlinks that used to poison the session (a publish
// the server answers by closing, re-sent after every reconnect), hang a msg, or crash Node-RED.
import should from "should";
import { ThingsBoardEmulator } from "../../emulator/thingsboard";
import type { GatewayConfigNode } from "../../nodes/common/gateway-types";
import { collect, gatewayNode, helper, load, nextMsg, until, type FlowNode } from "../support/red";

type Msg = Record<string, unknown>;

function message(m: Msg): string {
  return (m.error as { message: string }).message;
}

function warnings(): string[] {
  const spy = helper.log() as unknown as { args: Array<[{ level: number; msg: unknown }]>; WARN: number };
  return spy.args.map((a) => a[0]).filter((e) => e.level === spy.WARN).map((e) => String(e.msg));
}

const USERS = ["tel", "out", "in", "dc", "answer", "claim"];

function flow(url: string, gw: Record<string, unknown> = {}): FlowNode[] {
  return [
    { id: "tel", type: "telemetry-out", gateway: "gw", device: "device", deviceType: "msg", profile: "profile", profileType: "msg", autoConnect: true },
    { id: "out", type: "attribute-out", gateway: "gw", device: "device", deviceType: "msg", profile: "profile", profileType: "msg", autoConnect: true },
    { id: "in", type: "attribute-in", gateway: "gw", devices: "", updates: false, device: "device", deviceType: "msg", keys: "", scope: "shared", timeout: "2", fetchOnConnect: false, wires: [["got"]] },
    { id: "dc", type: "device-connect", gateway: "gw", device: "device", deviceType: "msg", profile: "profile", profileType: "msg", action: "connect", wires: [["connected"]] },
    { id: "rpc", type: "rpc-in", gateway: "gw", target: "both", devices: "", methods: "", autoAnswer: "", wires: [["rpcs"]] },
    { id: "answer", type: "rpc-response", gateway: "gw", wires: [] },
    { id: "claim", type: "claim", gateway: "gw", device: "device", deviceType: "msg", secretKey: "", secretKeyType: "str", duration: "", durationType: "num" },
    { id: "got", type: "helper" },
    { id: "rpcs", type: "helper" },
    { id: "connected", type: "helper" },
    { id: "catch", type: "catch", scope: USERS, uncaught: false, wires: [["errors"]] },
    { id: "complete", type: "complete", scope: USERS, uncaught: false, wires: [["completed"]] },
    { id: "errors", type: "helper" },
    { id: "completed", type: "helper" },
    gatewayNode(url, gw),
  ];
}

describe("poison inputs and downlinks (issue 7) in a Node-RED runtime against the ThingsBoard emulator", function () {
  let emu: ThingsBoardEmulator;
  let unhandled: unknown[];
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason);

  beforeEach(async () => {
    unhandled = [];
    process.on("unhandledRejection", onUnhandled);
    emu = await ThingsBoardEmulator.start({ rpcTimeoutMs: 3000 });
    await new Promise<void>((r) => helper.startServer(() => r()));
  });

  afterEach(async () => {
    process.off("unhandledRejection", onUnhandled);
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
    await emu.stop();
  });

  function session(): ReturnType<GatewayConfigNode["session"]> {
    return (helper.getNode("gw") as unknown as GatewayConfigNode).session();
  }

  async function connect(...devices: string[]): Promise<void> {
    await until(() => emu.gatewayConnected(), 5000, "gateway connection");
    for (const device of devices) {
      const out = nextMsg("connected");
      helper.getNode("dc").receive({ device });
      await out;
    }
  }

  async function rpcFor(device: string | undefined): Promise<Msg> {
    const seen = nextMsg("rpcs");
    if (device === undefined) emu.sendRaw("v1/devices/me/rpc/request/41", JSON.stringify({ method: "ping", params: {} })).should.be.true();
    else void emu.callRpc(device, "ping", {}, 3000).catch(() => undefined);
    return seen;
  }

  describe("item 3: a device profile the registry must not hold", () => {
    const poisons: Array<[string, unknown]> = [
      ["{}", {}],
      ["[]", []],
      ["a BigInt", BigInt(7)],
      ['""', ""],
    ];

    it("ends each msg with a bad msg.profile at its own node, and nothing of it is announced now or after a reconnect", async () => {
      await load(flow(emu.url));
      await until(() => emu.gatewayConnected(), 5000, "gateway connection");
      const errors = collect("errors");
      const completed = collect("completed");
      let expected = 0;
      for (const [, profile] of poisons) {
        for (const id of ["tel", "out", "dc"]) {
          helper.getNode(id).receive({ device: `Poisoned ${id}`, profile, payload: { t: 1 } });
          expected++;
        }
      }
      await until(() => errors.length === expected, 3000, `${expected} errors`);
      for (const e of errors) message(e).should.match(/^(telemetry-out|attribute-out|device-connect): device profile must be a non-empty string, got/);
      completed.should.be.empty();
      for (const d of session().registry.all()) should(typeof d.profile === "string" && d.profile.length > 0 || d.profile === undefined).be.true();
      [...session().registry.all()].map((d) => d.name).filter((n) => n.startsWith("Poisoned")).should.be.empty();

      helper.getNode("tel").receive({ device: "Meter", profile: "Meters", payload: { t: 1 } });
      await until(() => completed.length === 1, 3000, "a good msg");
      emu.dropGateway();
      await until(() => emu.gatewayConnections() === 2 && emu.device("Meter")?.connected, 5000, "reconnect and re-announce");
      for (let i = 0; i < 20; i++) helper.getNode("tel").receive({ device: "Meter", payload: { n: i } });
      await until(() => completed.length === 21, 5000, "20 later msgs");
      emu.gatewayConnections().should.equal(2);
      emu.closedReasons().should.have.length(1); // the drop, nothing the gateway sent
      emu.journal().filter((j) => j.kind === "connect").map((j) => j.device).should.eql(["Meter", "Meter"]);
      should(emu.device("Meter")).have.property("profile", "Meters");
      unhandled.should.be.empty();
    });

    it("hands a clean registry over on a redeploy, and a poisoned handover is not adopted", async () => {
      const f = flow(emu.url);
      await load(f);
      await until(() => emu.gatewayConnected(), 5000, "gateway connection");
      const completed = collect("completed");
      helper.getNode("tel").receive({ device: "Meter", profile: {}, payload: { t: 1 } });
      helper.getNode("tel").receive({ device: "Meter 2", profile: "Meters", payload: { t: 1 } });
      await until(() => completed.length === 1, 3000, "a good msg");
      // a predecessor that did hold poison (an older version's registry) hands it on
      const s = session();
      const handover = await s.handOver();
      handover.devices.push({ name: "Old", profile: {} as unknown as string }, { name: "", profile: "P" }, { name: "Older", profile: "Fine" });
      const fresh = new (s.constructor as typeof import("../../lib/session/session").GatewaySession)({ ...s.opts });
      fresh.adopt(handover);
      [...fresh.registry.all()].map((d) => [d.name, d.profile]).should.eql([["Meter 2", "Meters"], ["Older", "Fine"]]);
      await fresh.stop();
      unhandled.should.be.empty();
    });
  });

  describe("item 4: publishes the server answers by closing", () => {
    const unsendable: Array<[string, unknown]> = [
      ["a function", () => 1],
      ["a Symbol", Symbol("s")],
      ["toJSON returning undefined", { toJSON: () => undefined }],
    ];
    for (const [what, payload] of unsendable) {
      it(`refuses an RPC answer that is ${what} at rpc-response and publishes nothing`, async () => {
        await load(flow(emu.url));
        await connect("Pump");
        for (const device of ["Pump", undefined]) {
          const msg = await rpcFor(device);
          const err = nextMsg("errors");
          helper.getNode("answer").receive({ ...msg, payload });
          message(await err).should.match(/^rpc-response: RPC "ping" \d+ of .* the answer cannot be sent as JSON/);
        }
        await new Promise((r) => setTimeout(r, 100));
        emu.journal().filter((j) => j.kind === "rpcReply" || j.topic.startsWith("v1/devices/me/rpc/response/41")).should.be.empty();
        emu.closedReasons().should.be.empty();
        emu.gatewayConnections().should.equal(1);
      });
    }

    it("refuses a sparse msg.keys at attribute-in", async () => {
      await load(flow(emu.url));
      await until(() => emu.gatewayConnected(), 5000, "gateway connection");
      const errors = collect("errors");
      // eslint-disable-next-line no-sparse-arrays
      const sparse: unknown[] = [new Array(1), [, "a"], ["a", , "b"]];
      for (const keys of sparse) helper.getNode("in").receive({ device: "Meter", keys });
      await until(() => errors.length === 3, 3000, "3 errors");
      for (const e of errors) message(e).should.match(/^attribute-in: msg.keys must be/);
      await new Promise((r) => setTimeout(r, 100));
      emu.journal().filter((j) => j.topic === "v1/gateway/attributes/request").should.be.empty();
      emu.closedReasons().should.be.empty();
    });

    const badIds: Array<[string, string, string]> = [
      ["1e+300 in a request topic", "v1/devices/me/rpc/request/1e+300", JSON.stringify({ method: "ping", params: {} })],
      ["a negative id in a request topic", "v1/devices/me/rpc/request/-3", JSON.stringify({ method: "ping", params: {} })],
      ["a fractional id in a request topic", "v1/devices/me/rpc/request/1.5", JSON.stringify({ method: "ping", params: {} })],
      ["an unsafe id in a request topic", "v1/devices/me/rpc/request/9007199254740993", JSON.stringify({ method: "ping", params: {} })],
      ["a fractional sub-device RPC id", "v1/gateway/rpc", JSON.stringify({ device: "Pump", data: { id: 1.5, method: "ping", params: {} } })],
      ["a negative sub-device RPC id", "v1/gateway/rpc", JSON.stringify({ device: "Pump", data: { id: -1, method: "ping", params: {} } })],
      ["a huge sub-device RPC id", "v1/gateway/rpc", JSON.stringify({ device: "Pump", data: { id: 1e300, method: "ping", params: {} } })],
    ];
    it("drops server-sent ids that are not safe non-negative integers, with a warning each, and never answers them", async () => {
      await load(flow(emu.url));
      await connect("Pump");
      const rpcs = collect("rpcs");
      for (const [, topic, payload] of badIds) emu.sendRaw(topic, payload).should.be.true();
      await until(() => warnings().filter((w) => /ignored a message from the server/.test(w)).length >= badIds.length, 3000, "a warning each");
      rpcs.should.be.empty();
      // the session answers a well-formed one, so the bad ones were not merely slow
      const ok = await rpcFor("Pump");
      helper.getNode("answer").receive({ ...ok, payload: { pong: true } });
      await until(() => emu.journal().some((j) => j.kind === "rpcReply"), 3000, "the good reply");
      emu.journal().filter((j) => j.kind === "rpcReply" || j.topic.startsWith("v1/devices/me/rpc/response/")).length.should.equal(1);
      emu.closedReasons().should.be.empty();
    });

    it("ignores renames to an empty name or to more than 255 characters, with a warning, and keeps the old name", async () => {
      await load(flow(emu.url));
      await until(() => emu.gatewayConnected(), 5000, "gateway connection");
      const completed = collect("completed");
      helper.getNode("tel").receive({ device: "Pump", payload: { t: 1 } });
      await until(() => completed.length === 1, 3000, "first msg");
      emu.sendRaw("v1/devices/me/rpc/request/90", JSON.stringify({ method: "gateway_device_renamed", params: { Pump: "" } }));
      emu.sendRaw("v1/devices/me/rpc/request/91", JSON.stringify({ method: "gateway_device_renamed", params: { Pump: "x".repeat(256) } }));
      emu.sendRaw("v1/devices/me/rpc/request/92", JSON.stringify({ method: "gateway_device_renamed", params: { "": "Pump 2" } }));
      emu.sendRaw("v1/devices/me/rpc/request/93", JSON.stringify({ method: "gateway_device_deleted", params: "" }));
      await until(() => warnings().filter((w) => /ignored a message from the server.*device name/.test(w)).length === 4, 3000, "4 warnings");
      helper.getNode("tel").receive({ device: "Pump", payload: { t: 2 } });
      await until(() => completed.length === 2, 3000, "second msg");
      emu.telemetry("Pump").should.have.length(2);
      emu.journal().filter((j) => j.topic.startsWith("v1/devices/me/rpc/response/9")).should.be.empty();
      [...session().registry.all()].map((d) => d.name).should.eql(["Pump"]);
      emu.closedReasons().should.be.empty();
    });
  });

  describe("item 9: attribute-in never mutates its input msg after the handler returned", () => {
    it("answers a frozen msg with a new msg, done once, and no unhandled rejection", async () => {
      await load(flow(emu.url));
      await connect("Meter");
      emu.setSharedAttributes("Meter", { limit: 5 }).should.be.ok();
      const all = collect("completed");
      const completed = { get length(): number { return all.filter((m) => (m.complete as { source: { id: string } }).source.id === "in").length; } };
      const errors = collect("errors");
      const got = nextMsg("got");
      const input = Object.freeze({ device: "Meter", keys: ["limit"], topic: "t", deleted: ["x"] });
      helper.getNode("in").receive(input);
      const out = await got;
      out.should.have.properties({ device: "Meter", payload: { limit: 5 }, source: "request", topic: "t" });
      should(out.deleted).be.undefined();
      await until(() => completed.length === 1, 3000, "done");
      await new Promise((r) => setTimeout(r, 100));
      completed.length.should.equal(1);
      errors.should.be.empty();
      input.should.eql({ device: "Meter", keys: ["limit"], topic: "t", deleted: ["x"] });
      unhandled.should.be.empty();
    });

    it("leaves a msg it forwards untouched after the handler returned", async () => {
      await load(flow(emu.url));
      await connect("Meter");
      emu.setSharedAttributes("Meter", { limit: 5 }).should.be.ok();
      const input: Msg = { device: "Meter", keys: "limit", payload: "ask" };
      const got = nextMsg("got");
      helper.getNode("in").receive(input);
      (await got).should.have.properties({ payload: { limit: 5 } });
      const { _msgid, ...rest } = input;
      rest.should.eql({ device: "Meter", keys: "limit", payload: "ask" });
    });
  });

  describe("item 10: telemetry-out deployed with its registered defaults", () => {
    it("reads msg.device when the node's device is blank of type msg", async () => {
      // what the editor's `defaults` give a freshly dropped node
      await load([
        { id: "tel", type: "telemetry-out", gateway: "gw", name: "", device: "", deviceType: "msg", profile: "", profileType: "str", autoConnect: true },
        { id: "catch", type: "catch", scope: ["tel"], uncaught: false, wires: [["errors"]] },
        { id: "complete", type: "complete", scope: ["tel"], uncaught: false, wires: [["completed"]] },
        { id: "errors", type: "helper" },
        { id: "completed", type: "helper" },
        gatewayNode(emu.url),
      ]);
      await until(() => emu.gatewayConnected(), 5000, "gateway connection");
      const completed = collect("completed");
      const errors = collect("errors");
      helper.getNode("tel").receive({ device: "Boiler", payload: { t: 21 } });
      helper.getNode("tel").receive({ payload: { "Pump A": [{ rpm: 1 }] } });
      await until(() => completed.length + errors.length === 2, 3000, "2 msgs ended");
      errors.map(message).should.be.empty();
      emu.telemetry("Boiler").map((p) => p.values).should.eql([{ t: 21 }]);
      emu.telemetry("Pump A").map((p) => p.values).should.eql([{ rpm: 1 }]);
    });
  });
});

describe("a device first seen while the gateway is disconnected", function () {
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

  it("is announced once after the reconnect, before its data", async () => {
    await load(flow(emu.url, { reconnectMin: 0.3, reconnectMax: 0.3 }));
    await until(() => emu.gatewayConnected(), 5000, "gateway connection");
    const completed = collect("completed");
    emu.dropGateway();
    // the session itself knows it is down (a drop it has not seen yet is another race)
    const session = (helper.getNode("gw") as unknown as GatewayConfigNode).session();
    await until(() => !emu.gatewayConnected() && !session.connected, 2000, "dropped");
    for (let i = 0; i < 5; i++) helper.getNode("tel").receive({ device: "Late", profile: "Meters", payload: { n: i } });
    await until(() => completed.length === 5, 5000, "5 msgs done after the reconnect");
    const late = emu.journal().filter((j) => j.device === "Late");
    late.map((j) => j.kind)[0].should.equal("connect");
    late.filter((j) => j.kind === "connect").should.have.length(1);
    should(emu.device("Late")).have.properties({ profile: "Meters", connected: true });
  });
});
