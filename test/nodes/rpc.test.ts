import should from "should";
import { ThingsBoardEmulator } from "../../emulator/thingsboard";
import { collect, gatewayNode, helper, nextMsg, nodes, until, type FlowNode } from "../support/red";

type Msg = Record<string, unknown>;

function warnings(): string[] {
  const spy = helper.log() as unknown as { args: Array<[{ level: number; msg: unknown }]>; WARN: number };
  return spy.args.map((a) => a[0]).filter((e) => e.level === spy.WARN).map((e) => String(e.msg));
}

// A core change node (JSONata) stands for the flow's work; the test helper loads only the core
// nodes it is given.
const changeNode = require("@node-red/nodes/core/function/15-change.js");
const answerRule = { t: "set", p: "payload", pt: "msg", to: '{"ok": true, "speed": payload.speed, "device": device}', tot: "jsonata" };

function load(flow: FlowNode[]): Promise<void> {
  const onTab = flow.map((n) => (n.type === "gateway-config" ? n : { x: 100, y: 100, ...n, z: "flow" }));
  const all = [{ id: "flow", type: "tab", label: "test" }, ...onTab];
  return new Promise((resolve, reject) => helper.load([...Object.values(nodes), changeNode], all, { gw: { token: "GATEWAY_TOKEN" } }, (err?: Error) => (err ? reject(err) : resolve())));
}

/** rpc-in → function → rpc-response, with catch/complete on the answer and a device to announce. */
function flow(url: string, rpcIn: Partial<FlowNode> = {}, extra: FlowNode[] = []): FlowNode[] {
  return [
    { id: "rpc", type: "rpc-in", gateway: "gw", target: "devices", devices: "", methods: "", autoAnswer: "", wires: [["seen", "fn"]], ...rpcIn },
    { id: "fn", type: "change", rules: [answerRule], wires: [["answer"]] },
    { id: "answer", type: "rpc-response", gateway: "", wires: [] },
    { id: "dc", type: "device-connect", gateway: "gw", device: "device", deviceType: "msg", profile: "", profileType: "str", action: "connect", wires: [["connected"]] },
    { id: "seen", type: "helper" },
    { id: "connected", type: "helper" },
    { id: "catch", type: "catch", scope: ["answer", "answer2"], uncaught: false, wires: [["errors"]] },
    { id: "complete", type: "complete", scope: ["answer"], uncaught: false, wires: [["completed"]] },
    { id: "errors", type: "helper" },
    { id: "completed", type: "helper" },
    gatewayNode(url),
    ...extra,
  ];
}

describe("rpc-in and rpc-response in a Node-RED runtime against the ThingsBoard emulator", function () {
  let emu: ThingsBoardEmulator;

  beforeEach(async () => {
    emu = await ThingsBoardEmulator.start({ rpcTimeoutMs: 3000 });
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

  it("outputs a device's RPC with msg.device, msg.method, msg.payload and msg.rpc, and the flow's answer reaches the caller", async () => {
    await load(flow(emu.url));
    await connect("Pump");
    const seen = nextMsg("seen");
    const completed = nextMsg("completed");
    const answer = emu.callRpc("Pump", "setSpeed", { speed: 1200 }, 3000);
    const msg = await seen;
    msg.should.have.properties({ device: "Pump", method: "setSpeed", payload: { speed: 1200 } });
    const rpc = msg.rpc as { device: string; id: number; method: string; gateway: string };
    rpc.should.have.properties({ device: "Pump", method: "setSpeed", gateway: "gw" });
    rpc.id.should.be.a.Number();
    should(await answer).eql({ ok: true, speed: 1200, device: "Pump" });
    await completed;
    emu.journal().filter((j) => j.kind === "rpcReply").map((j) => [j.device, (j.detail as { matched: boolean }).matched]).should.eql([["Pump", true]]);
  });

  it("routes by device and method: each rpc-in sees only what it watches", async () => {
    const extra: FlowNode[] = [
      { id: "speedOnly", type: "rpc-in", gateway: "gw", target: "devices", devices: "Pump, Fan", methods: "setSpeed", autoAnswer: "", wires: [["speeds", "fn"]] },
      { id: "speeds", type: "helper" },
    ];
    await load(flow(emu.url, { devices: "Valve", methods: "" }, extra));
    await connect("Pump", "Valve", "Fan");
    const seen = collect("seen");
    const speeds = collect("speeds");
    await emu.callRpc("Pump", "setSpeed", { speed: 1 }, 3000);
    await emu.callRpc("Valve", "open", { speed: 2 }, 3000);
    await emu.callRpc("Fan", "setSpeed", { speed: 3 }, 3000);
    seen.map((m) => [m.device, m.method]).should.eql([["Valve", "open"]]);
    speeds.map((m) => [m.device, m.method]).should.eql([["Pump", "setSpeed"], ["Fan", "setSpeed"]]);
    // nobody watches Valve's "close": the session says so, and leaves the caller to its timeout
    await emu.callRpc("Fan", "reboot", undefined, 300).should.be.rejectedWith(/timed out/);
    await until(() => warnings().some((w) => /no rpc-in node watches RPC "reboot" \d+ of "Fan"/.test(w)), 2000, "warning");
  });

  it("outputs RPCs to the gateway device itself when told to, and answers them on the gateway's own topic", async () => {
    await load(flow(emu.url, { target: "gateway" }));
    await connect("Pump");
    const seen = nextMsg("seen");
    const completed = nextMsg("completed");
    emu.sendRaw("v1/devices/me/rpc/request/77", JSON.stringify({ method: "setSpeed", params: { speed: 5 } })).should.be.true();
    const msg = await seen;
    should(msg.device).be.undefined();
    msg.should.have.properties({ method: "setSpeed", payload: { speed: 5 } });
    msg.rpc!.should.eql({ device: undefined, id: 77, method: "setSpeed", gateway: "gw" });
    await completed;
    const reply = emu.journal().find((j) => j.topic === "v1/devices/me/rpc/response/77");
    should(reply).be.ok();
    (reply!.detail as { data: unknown }).data!.should.eql({ ok: true, speed: 5 });
    // a sub-device's RPC does not reach a gateway-only rpc-in
    await emu.callRpc("Pump", "setSpeed", { speed: 1 }, 300).should.be.rejectedWith(/timed out/);
  });

  it("answers the platform itself with an error when the flow has not answered within the auto-answer time, and refuses the late answer", async () => {
    const f = flow(emu.url, { autoAnswer: "150", wires: [["seen"]] }); // nothing answers
    f.push({ id: "answer2", type: "rpc-response", gateway: "gw", wires: [] });
    await load(f);
    await connect("Pump");
    const seen = nextMsg("seen");
    const answer = await emu.callRpc("Pump", "setSpeed", { speed: 1 }, 3000);
    should(answer).eql({ error: "no answer from the flow within 150 ms" });
    const late = await seen;
    const err = nextMsg("errors");
    helper.getNode("answer2").receive({ ...late, payload: { ok: true } });
    ((await err).error as { message: string }).message.should.match(/^rpc-response: RPC "setSpeed" \d+ of "Pump" is not open: it was answered already/);
    emu.journal().filter((j) => j.kind === "rpcReply").should.have.length(1);
  });

  it("refuses a second answer to the same RPC, and a msg without msg.rpc, with catchable errors", async () => {
    const f = flow(emu.url, { wires: [["seen"]] });
    f.push({ id: "answer2", type: "rpc-response", gateway: "gw", wires: [] });
    await load(f);
    await connect("Pump");
    const seen = nextMsg("seen");
    const answer = emu.callRpc("Pump", "setSpeed", { speed: 1 }, 3000);
    const msg = await seen;
    const completed = nextMsg("completed");
    helper.getNode("answer").receive({ ...msg, payload: "first" });
    const err = nextMsg("errors");
    helper.getNode("answer2").receive({ ...msg, payload: "second" });
    ((await err).error as { message: string }).message.should.match(/rpc-response: RPC "setSpeed" \d+ of "Pump" is not open/);
    await completed;
    should(await answer).equal("first");
    emu.journal().filter((j) => j.kind === "rpcReply").should.have.length(1);

    const err2 = nextMsg("errors");
    helper.getNode("answer").receive({ payload: 1 });
    ((await err2).error as { message: string }).message.should.match(/^rpc-response: msg.rpc is missing/);
    const err3 = nextMsg("errors");
    helper.getNode("answer").receive({ payload: 1, rpc: { device: "Pump", id: 5, gateway: "nope" } });
    ((await err3).error as { message: string }).message.should.match(/^rpc-response: no gateway/);
  });

  it("still routes RPCs after the emulator drops the gateway, because the gateway announces its devices again", async () => {
    await load(flow(emu.url));
    await connect("Pump");
    should(await emu.callRpc("Pump", "setSpeed", { speed: 1 }, 3000)).have.property("speed", 1);
    emu.dropGateway();
    await until(() => emu.gatewayConnections() === 2 && emu.device("Pump")?.connected, 8000, "reconnect and re-announce");
    should(await emu.callRpc("Pump", "setSpeed", { speed: 2 }, 3000)).have.property("speed", 2);
  });

  it("follows a rename (watchers see the new name, the platform gets its answer) and a delete", async () => {
    await load(flow(emu.url, { devices: "Pump" }));
    await connect("Pump");
    should(await emu.renameDevice("Pump", "Pump 2")).eql({ success: true });
    const seen = nextMsg("seen");
    const answer = emu.callRpc("Pump 2", "setSpeed", { speed: 7 }, 3000);
    (await seen).should.have.properties({ device: "Pump 2", method: "setSpeed" });
    should(await answer).eql({ ok: true, speed: 7, device: "Pump 2" });
    should(await emu.deleteDevice("Pump 2")).eql({ success: true });
    should(emu.device("Pump 2")).be.undefined();
    // the registry forgot it: a reconnect does not bring it back
    emu.dropGateway();
    await until(() => emu.gatewayConnections() === 2 && emu.gatewayConnected(), 8000, "reconnect");
    await new Promise((r) => setTimeout(r, 100));
    should(emu.device("Pump 2")).be.undefined();
    should(emu.device("Pump")).be.undefined();
  });

  it("logs and drops malformed downlinks (invalid JSON, wrong shapes) without an exception, and keeps working", async () => {
    await load(flow(emu.url));
    await connect("Pump");
    const seen = collect("seen");
    emu.sendRaw("v1/gateway/rpc", "{not json").should.be.true();
    emu.sendRaw("v1/gateway/rpc", JSON.stringify({ device: "Pump", data: { method: "x" } }));
    emu.sendRaw("v1/gateway/rpc", JSON.stringify([1, 2]));
    emu.sendRaw("v1/gateway/attributes", JSON.stringify({ device: "Pump", data: 5 }));
    emu.sendRaw("v1/devices/me/rpc/request/abc", JSON.stringify({ method: "m" }));
    emu.sendRaw("v1/devices/me/rpc/request/3", JSON.stringify({ method: "gateway_device_renamed", params: "x" }));
    await until(() => warnings().filter((w) => /ignored a message from the server/.test(w)).length === 6, 3000, "6 warnings");
    const w = warnings().join("\n");
    w.should.match(/invalid JSON on v1\/gateway\/rpc/);
    w.should.match(/expected "data" with a numeric "id" and a "method"/);
    w.should.match(/expected "data" to be an object/);
    w.should.match(/gateway_device_renamed expects params/);
    seen.should.be.empty();
    should(await emu.callRpc("Pump", "setSpeed", { speed: 3 }, 3000)).have.property("speed", 3);
    emu.gatewayConnections().should.equal(1);
  });
});
