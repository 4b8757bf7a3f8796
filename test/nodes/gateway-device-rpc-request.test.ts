// rpc-request: the flow asks the server (client-side RPC of the gateway device) and gets its
// answer on the output; no answer in time is a catchable error; a platform without it refuses.
import should from "should";
import { ThingsBoardEmulator } from "../../emulator/thingsboard";
import { collect, gatewayNode, helper, load, nextMsg, until, type FlowNode } from "../support/red";

function flow(url: string, req: Partial<FlowNode> = {}, gw: Record<string, unknown> = {}): FlowNode[] {
  return [
    { id: "req", type: "rpc-request", gateway: "gw", method: "", params: "payload", paramsType: "msg", timeout: "5", wires: [["out"]], ...req },
    { id: "catch", type: "catch", scope: ["req"], uncaught: false, wires: [["errors"]] },
    { id: "complete", type: "complete", scope: ["req"], uncaught: false, wires: [["completed"]] },
    { id: "out", type: "helper" },
    { id: "errors", type: "helper" },
    { id: "completed", type: "helper" },
    gatewayNode(url, gw),
  ];
}

interface RpcSeen {
  id: number;
  method: string;
  params: unknown;
}

describe("rpc-request in a Node-RED runtime against the ThingsBoard emulator", function () {
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

  /** The client-side RPCs the server received from the gateway (not its own getSessionLimits). */
  function requests(): RpcSeen[] {
    return emu.journal().filter((j) => j.kind === "gatewayRpc").map((j) => j.detail as RpcSeen).filter((d) => d.method !== "getSessionLimits");
  }

  /** What the gateway device's rule chain does on ThingsBoard: answers on v1/devices/me/rpc/response/{id}. */
  function answer(id: number, body: unknown): void {
    emu.sendRaw(`v1/devices/me/rpc/response/${id}`, JSON.stringify(body)).should.be.true();
  }

  it("sends the method and params of the msg and outputs the server's answer on the same msg", async () => {
    await load(flow(emu.url));
    await until(() => emu.gatewayConnected(), 5000, "gateway connection");
    const out = nextMsg("out");
    const completed = nextMsg("completed");
    helper.getNode("req").receive({ method: "getTime", payload: { tz: "UTC" }, tag: "kept" });
    const [seen] = await until(() => requests().length === 1 && requests(), 5000, "the request at the server");
    seen.should.have.properties({ method: "getTime", params: { tz: "UTC" } });
    answer(seen.id, { time: 1700000000000 });
    const msg = await out;
    msg.should.have.properties({ payload: { time: 1700000000000 }, tag: "kept" });
    await completed;
  });

  it("takes the method from the node (over msg.method) and msg.topic when neither is set", async () => {
    await load([...flow(emu.url, { id: "req", method: "firmwareInfo" }), { id: "req2", type: "rpc-request", gateway: "gw", method: "", params: "", paramsType: "msg", timeout: "5", wires: [["out"]] }]);
    await until(() => emu.gatewayConnected(), 5000, "gateway connection");
    const outs = collect("out");
    helper.getNode("req").receive({ method: "ignored", payload: 1 });
    helper.getNode("req2").receive({ topic: "ping", payload: "not sent" });
    const seen = await until(() => requests().length === 2 && requests(), 5000, "both requests");
    seen.map((s) => [s.method, s.params]).sort().should.eql([["firmwareInfo", 1], ["ping", undefined]]);
    for (const s of seen) answer(s.id, { for: s.method });
    await until(() => outs.length === 2, 5000, "both answers");
    outs.map((m) => (m.payload as { for: string }).for).sort().should.eql(["firmwareInfo", "ping"]);
  });

  it("ends the msg with a catchable error when no answer comes within the timeout, or when no method is given", async () => {
    await load(flow(emu.url, { timeout: "1" }));
    await until(() => emu.gatewayConnected(), 5000, "gateway connection");
    const errors = collect("errors");
    const outs = collect("out");
    helper.getNode("req").receive({ method: "nobodyAnswers", payload: {} });
    helper.getNode("req").receive({ payload: {} });
    await until(() => errors.length === 2, 5000, "2 errors");
    const texts = errors.map((m) => String((m.error as { message: string }).message).replace(/^Error: /, ""));
    texts.should.containEql('rpc-request: gateway RPC "nobodyAnswers": no answer within 1000 ms');
    texts.some((t) => t.startsWith("rpc-request: the method is missing")).should.be.true();
    outs.should.have.length(0);
    requests().map((r) => r.method).should.eql(["nobodyAnswers"]);
  });

  it("refuses at deploy on a platform without client-side RPC (ThingsPanel), and ends each msg with that error", async () => {
    await load(flow("mqtt://127.0.0.1:1", {}, { platform: "thingspanel", deviceNumber: "gw-1" }));
    const req = helper.getNode("req");
    const spy = helper.log() as unknown as { args: Array<[{ level: number; msg: unknown; type?: string }]>; ERROR: number };
    const logged = spy.args.map((a) => a[0]).filter((e) => e.level === spy.ERROR && e.type === "rpc-request").map((e) => String(e.msg));
    logged.should.containEql("rpc-request: the platform thingspanel has no client-side RPC of the gateway device (ThingsBoard has): this node cannot send anything there");
    const errors = nextMsg("errors");
    req.receive({ method: "x" });
    should(String(((await errors).error as { message: string }).message).replace(/^Error: /, "")).startWith("rpc-request: the platform thingspanel has no client-side RPC");
  });
});
