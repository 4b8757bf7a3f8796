// Service RPCs to the gateway device, answered by the package itself (as the Python gateway does
// for the RPC debug terminal), and every other RPC to the gateway still reaching the flow.
import fs from "fs";
import path from "path";
import should from "should";
import { ThingsBoardEmulator } from "../../emulator/thingsboard";
import { collect, gatewayNode, helper, nodes, until, type FlowNode } from "../support/red";

const changeNode = require("@node-red/nodes/core/function/15-change.js");
const PACKAGE = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "..", "package.json"), "utf8")) as { version: string };

function load(flow: FlowNode[]): Promise<void> {
  const onTab = flow.map((n) => (n.type === "gateway-config" ? n : { x: 100, y: 100, ...n, z: "flow" }));
  const all = [{ id: "flow", type: "tab", label: "test" }, ...onTab];
  return new Promise((resolve, reject) => helper.load([...Object.values(nodes), changeNode], all, { gw: { token: "GATEWAY_TOKEN" } }, (err?: Error) => (err ? reject(err) : resolve())));
}

/** rpc-in watching the gateway itself (every method) → an answer → rpc-response; a device to announce. */
function flow(url: string, gw: Record<string, unknown> = {}): FlowNode[] {
  return [
    { id: "rpc", type: "rpc-in", gateway: "gw", target: "gateway", devices: "", methods: "", autoAnswer: "", wires: [["seen", "fn"]] },
    { id: "fn", type: "change", rules: [{ t: "set", p: "payload", pt: "msg", to: '{"done": method}', tot: "jsonata" }], wires: [["answer"]] },
    { id: "answer", type: "rpc-response", gateway: "", wires: [] },
    { id: "dc", type: "device-connect", gateway: "gw", device: "device", deviceType: "msg", profile: "profile", profileType: "msg", action: "connect", wires: [["connected"]] },
    { id: "seen", type: "helper" },
    { id: "connected", type: "helper" },
    gatewayNode(url, gw),
  ];
}

describe("gateway device: service RPCs against the ThingsBoard emulator", function () {
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

  /** Connected and subscribed: the gateway asks for its limits right after its subscriptions. */
  async function ready(): Promise<void> {
    await until(() => emu.journal().some((j) => j.kind === "gatewayRpc"), 5000, "gateway subscribed");
  }

  it("answers gateway_ping, gateway_devices, gateway_version and gateway_stats itself, on by default in a flow saved before the switch existed", async () => {
    await load(flow(emu.url)); // gatewayNode has no serviceRpcs property: an older flow
    const seen = collect("seen");
    const connected = collect("connected");
    await ready();
    helper.getNode("dc").receive({ device: "Pump", profile: "pump" });
    helper.getNode("dc").receive({ device: "Boiler" });
    await until(() => connected.length === 2, 5000, "2 devices connected");

    should(await emu.callGatewayRpc("gateway_ping")).eql({ code: 200, resp: "pong" });
    should(await emu.callGatewayRpc("gateway_devices")).eql({ code: 200, resp: { Pump: "pump", Boiler: "default" } });
    const version = (await emu.callGatewayRpc("gateway_version")) as { code: number; resp: Record<string, string> };
    version.code.should.equal(200);
    version.resp.should.have.properties({ current_version: PACKAGE.version, package: "node-red-contrib-iot-gateway", node: process.version });
    version.resp.node_red.should.match(/^\d+\.\d+\.\d+/);
    const stats = (await emu.callGatewayRpc("gateway_stats")) as { code: number; resp: Record<string, unknown> };
    stats.code.should.equal(200);
    stats.resp.should.have.properties({ devices: 2, connected: true, reconnects: 0, waitingMsgs: 0, droppedMsgs: 0 });
    (stats.resp.publishesOut as number).should.be.above(0);
    seen.should.have.length(0); // none of them reached the flow
  });

  it("lets every other RPC to the gateway reach the rpc-in that watches it, and its answer reach the caller", async () => {
    await load(flow(emu.url, { serviceRpcs: true }));
    const seen = collect("seen");
    await ready();
    should(await emu.callGatewayRpc("restart_plc", { delayS: 5 })).eql({ done: "restart_plc" });
    seen.should.have.length(1);
    seen[0].should.have.properties({ method: "restart_plc", payload: { delayS: 5 } });
    should(seen[0].device).be.undefined();
  });

  it("with the switch off, gateway_ping goes to the flow like any RPC", async () => {
    await load(flow(emu.url, { serviceRpcs: false }));
    const seen = collect("seen");
    await ready();
    should(await emu.callGatewayRpc("gateway_ping")).eql({ done: "gateway_ping" });
    seen.map((m) => m.method).should.eql(["gateway_ping"]);
  });
});
