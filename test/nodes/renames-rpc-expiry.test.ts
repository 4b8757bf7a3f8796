// Issue 7, items 7 and 8: the platform's renames followed on the way up (across reconnects and
// redeploys), RPCs that expire and are bounded, attribute responses matched by id and device.
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

function flow(url: string, rpcIn: Partial<FlowNode> = {}, gw: Record<string, unknown> = {}): FlowNode[] {
  return [
    { id: "tel", type: "telemetry-out", gateway: "gw", device: "device", deviceType: "msg", profile: "", profileType: "str", autoConnect: true },
    { id: "out", type: "attribute-out", gateway: "gw", device: "device", deviceType: "msg", profile: "", profileType: "str", autoConnect: true },
    { id: "in", type: "attribute-in", gateway: "gw", devices: "A", updates: true, device: "device", deviceType: "msg", keys: "", scope: "shared", timeout: "2", fetchOnConnect: false, wires: [["got"]] },
    { id: "dc", type: "device-connect", gateway: "gw", device: "device", deviceType: "msg", profile: "", profileType: "str", action: "connect", wires: [["connected"]] },
    { id: "rpc", type: "rpc-in", gateway: "gw", target: "devices", devices: "A", methods: "", autoAnswer: "", timeout: "60", wires: [["rpcs"]], ...rpcIn },
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

function withTab(f: FlowNode[]): FlowNode[] {
  return [{ id: "flow", type: "tab", label: "test" }, ...f.map((n) => (n.type === "gateway-config" ? n : { x: 100, y: 100, ...n, z: "flow" }))];
}

describe("renames, RPC expiry and attribute responses (issue 7) in a Node-RED runtime against the ThingsBoard emulator", function () {
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

  /** Every kind of uplink the flow can send for a device, ended at its node. */
  async function everyUplinkFor(device: string, n: number): Promise<void> {
    const completed = collect("completed");
    const errors = collect("errors");
    const got = nextMsg("got");
    helper.getNode("tel").receive({ device, payload: { n } });
    helper.getNode("out").receive({ device, payload: { fw: n } });
    helper.getNode("claim").receive({ device, secretKey: "s", durationMs: 1000 });
    helper.getNode("dc").receive({ device });
    helper.getNode("in").receive({ device, keys: "limit" });
    await until(() => completed.length + errors.length === 5, 5000, "5 msgs ended");
    errors.map(message).should.be.empty();
    const answer = await got;
    answer.should.have.properties({ device, source: "request" }); // the msg keeps the flow's name
    (answer.payload as { limit: number }).limit.should.be.a.Number();
  }

  it("sends every later uplink for a renamed device under its new name, and its listeners keep working", async () => {
    await load(flow(emu.url));
    await connect("A");
    emu.setSharedAttributes("A", { limit: 5 });
    should(await emu.renameDevice("A", "A2")).eql({ success: true });
    const since = emu.journal().length;
    await everyUplinkFor("A", 1);
    const after = emu.journal().slice(since).filter((j) => j.device !== undefined && j.kind !== "gatewayRpc" && j.kind !== "rpcReply");
    after.map((j) => j.device).should.containEql("A2");
    after.filter((j) => j.device === "A").should.be.empty();
    should(emu.device("A")).be.undefined(); // no second device was created
    emu.telemetry("A2").map((p) => p.values).should.eql([{ n: 1 }]);
    emu.clientAttributes("A2").should.eql({ fw: 1 });
    emu.claims("A2").should.have.length(1);

    // RPCs and attribute updates for A2 reach the nodes that watch "A"; the answer reaches the caller
    const rpc = nextMsg("rpcs");
    const answer = emu.callRpc("A2", "ping", { x: 1 }, 3000);
    const msg = await rpc;
    msg.should.have.properties({ device: "A2", method: "ping" });
    const completed = nextMsg("completed");
    helper.getNode("answer").receive({ ...msg, payload: { pong: 1 } });
    should(await answer).eql({ pong: 1 });
    await completed;
    const update = nextMsg("got");
    emu.setSharedAttributes("A2", { limit: 6 });
    (await update).should.have.properties({ device: "A2", payload: { limit: 6 }, source: "update" });

    // after a reconnect only A2 is announced
    emu.dropGateway();
    await until(() => emu.gatewayConnections() === 2 && emu.device("A2")?.connected, 5000, "reconnect");
    await everyUplinkFor("A", 2);
    should(emu.device("A")).be.undefined();
    [...session().registry.all()].map((d) => d.name).should.eql(["A2"]);
  });

  it("an RPC open when the device is renamed is answered under the new name", async () => {
    await load(flow(emu.url));
    await connect("A");
    const rpc = nextMsg("rpcs");
    const answer = emu.callRpc("A", "ping", {}, 3000);
    const msg = await rpc;
    should(await emu.renameDevice("A", "A2")).eql({ success: true });
    helper.getNode("answer").receive({ ...msg, payload: "late but right" });
    should(await answer).equal("late but right");
    emu.journal().filter((j) => j.kind === "rpcReply" && j.device !== "Gateway").map((j) => j.device).should.eql(["A2"]);
  });

  it("keeps the renames over a redeploy of the gateway: the restarted nodes still follow them", async () => {
    const f = flow(emu.url);
    await load(f);
    await connect("A");
    emu.setSharedAttributes("A", { limit: 5 });
    should(await emu.renameDevice("A", "A2")).eql({ success: true });
    await helper.setFlows(withTab(f.map((n) => (n.id === "gw" ? { ...n, batchWindow: 10 } : n))), "nodes");
    await until(() => emu.gatewayConnections() === 2 && emu.gatewayConnected(), 5000, "the new session");
    session().registry.snapshot().renames.should.eql([["A", "A2"]]);
    await everyUplinkFor("A", 3);
    should(emu.device("A")).be.undefined();
    const rpc = nextMsg("rpcs");
    void emu.callRpc("A2", "ping", {}, 3000).catch(() => undefined);
    (await rpc).should.have.properties({ device: "A2" });
  });

  it("follows a chain of renames, and forgets them when the device is deleted", async () => {
    await load(flow(emu.url));
    await connect("A");
    emu.setSharedAttributes("A", { limit: 5 });
    should(await emu.renameDevice("A", "A1")).eql({ success: true });
    should(await emu.renameDevice("A1", "A2")).eql({ success: true });
    await everyUplinkFor("A", 4);
    await everyUplinkFor("A1", 5);
    should(emu.device("A")).be.undefined();
    should(emu.device("A1")).be.undefined();
    emu.telemetry("A2").map((p) => p.values.n).should.eql([4, 5]);
    const changed = collect("completed");
    should(await emu.deleteDevice("A2")).eql({ success: true });
    session().registry.snapshot().should.eql({ devices: [], renames: [] });
    helper.getNode("tel").receive({ device: "A", payload: { n: 6 } });
    await until(() => changed.length === 1, 3000, "done");
    emu.telemetry("A").map((p) => p.values.n).should.eql([6]);
  });

  it("tells the store of every change of the registry", async () => {
    await load(flow(emu.url));
    await connect();
    let changes = 0;
    session().registry.on("changed", () => changes++);
    await connect("A");
    changes.should.equal(1);
    should(await emu.renameDevice("A", "A2")).eql({ success: true });
    changes.should.equal(2);
  });

  describe("RPC expiry", () => {
    it("closes an RPC the flow never answers after rpc-in's time, with a warning, and refuses the late answer", async () => {
      await load(flow(emu.url, { timeout: "0.2" }));
      await connect("A");
      const rpc = nextMsg("rpcs");
      const caller = emu.callRpc("A", "ping", {}, 3000).catch((e: Error) => e.message);
      const msg = await rpc;
      session().router.rpcs.size.should.equal(1);
      await until(() => warnings().some((w) => /RPC "ping" of "A" was not answered within 200 ms: it is closed/.test(w)), 3000, "the expiry warning");
      session().router.rpcs.size.should.equal(0);
      const err = nextMsg("errors");
      helper.getNode("answer").receive({ ...msg, payload: "too late" });
      message(await err).should.match(/rpc-response: RPC "ping" \d+ of "A" is not open/);
      String(await caller).should.match(/timed out/);
      emu.journal().filter((j) => j.kind === "rpcReply" && j.device === "A").should.be.empty();
    });

    it("gives a flow saved without rpc-in's timeout ThingsBoard's default (the RPC is still open after the short times)", async () => {
      const f = flow(emu.url);
      const old = f.map((n) => {
        if (n.id !== "rpc") return n;
        const { timeout: _t, ...rest } = n;
        return rest as FlowNode;
      });
      await load(old);
      await connect("A");
      const rpc = nextMsg("rpcs");
      const answer = emu.callRpc("A", "ping", {}, 3000);
      const msg = await rpc;
      await new Promise((r) => setTimeout(r, 400));
      session().router.rpcs.size.should.equal(1);
      helper.getNode("answer").receive({ ...msg, payload: "ok" });
      should(await answer).equal("ok");
    });

    it("holds at most 1000 open RPCs: the oldest is closed first, with a warning", async () => {
      await load(flow(emu.url));
      await connect("A");
      const rpcs = collect("rpcs");
      for (let id = 1; id <= 1005; id++) emu.sendRaw("v1/gateway/rpc", JSON.stringify({ device: "A", data: { id, method: "m", params: id } }));
      await until(() => rpcs.length === 1005, 5000, "1005 RPCs out");
      session().router.rpcs.size.should.equal(1000);
      warnings().some((w) => /RPC "m" of "A" was closed unanswered: more than 1000 RPCs were waiting for the flow/.test(w)).should.be.true();
      const err = nextMsg("errors");
      helper.getNode("answer").receive({ ...rpcs[0], payload: 1 });
      message(await err).should.match(/is not open/);
      const done = nextMsg("completed");
      helper.getNode("answer").receive({ ...rpcs[1004], payload: 1005 });
      await done;
      emu.journal().filter((j) => j.kind === "rpcReply").map((j) => (j.detail as { id: number }).id).should.eql([1005]);
    });
  });

  it("matches an attribute response by id and device: one naming another device does not answer the request", async () => {
    await load(flow(emu.url));
    await connect("A", "B");
    emu.failAttributeLookups("A");
    const got = nextMsg("got", 3000);
    helper.getNode("in").receive({ device: "A", keys: "limit" });
    const req = await until(() => emu.journal().find((j) => j.kind === "attributeRequest" && j.device === "A"), 3000, "the request");
    const id = (req as { detail: { id: number } }).detail.id;
    emu.sendRaw("v1/gateway/attributes/response", JSON.stringify({ id, device: "B", value: 666 }));
    await until(() => warnings().some((w) => new RegExp(`ignored an attribute response for "B": request ${id} asked about "A"`).test(w)), 3000, "the warning");
    emu.sendRaw("v1/gateway/attributes/response", JSON.stringify({ id, device: "A", value: 5 }));
    (await got).should.have.properties({ device: "A", payload: { limit: 5 } });
  });
});
