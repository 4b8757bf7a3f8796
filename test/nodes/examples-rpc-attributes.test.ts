// The example flows of RPC, attributes and claiming, imported as a user would, run against the
// emulator: what their Comment nodes promise is what they do.
import * as fs from "fs";
import * as path from "path";
import should from "should";
import { ThingsBoardEmulator } from "../../emulator/thingsboard";
import { helper, nodes, until, type FlowNode } from "../support/red";

const CORE = ["common/20-inject.js", "common/21-debug.js", "common/90-comment.js", "function/10-function.js", "function/10-switch.js", "function/15-change.js"].map((f) =>
  require(`@node-red/nodes/core/${f}`),
);

function example(name: string): FlowNode[] {
  for (let dir = __dirname; path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    const file = path.join(dir, "examples", name);
    if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, "utf8")) as FlowNode[];
  }
  throw new Error(`examples/${name} not found`);
}

function load(flow: FlowNode[], url: string): Promise<void> {
  const gw = flow.find((n) => n.type === "gateway-config")!;
  const nodesOnTab = flow.map((n) => (n.type === "gateway-config" ? { ...n, url, reconnectMin: "0.2" } : { ...n, z: "flow" }));
  const all = [{ id: "flow", type: "tab", label: "example" }, ...nodesOnTab];
  return new Promise((resolve, reject) =>
    helper.load([...Object.values(nodes), ...CORE], all, { [gw.id]: { token: "GATEWAY_TOKEN" } }, (err?: Error) => (err ? reject(err) : resolve())),
  );
}

function byType(flow: FlowNode[], type: string, name?: string): string {
  const n = flow.find((x) => x.type === type && (name === undefined || x.name === name));
  if (!n) throw new Error(`no ${type} ${name ?? ""} in the example`);
  return n.id;
}

describe("example flows for RPC, attributes and claiming", function () {
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

  it("every example has a Comment node and uses only core nodes and this package's", () => {
    const ours = new Set(["gateway-config", "device-connect", "telemetry-out", "attribute-out", "attribute-in", "rpc-in", "rpc-response", "claim"]);
    const core = new Set(["comment", "inject", "debug", "function", "switch", "change", "catch", "complete", "status"]);
    for (const name of ["rpc-answer.json", "shared-attribute-setting.json", "attribute-request-at-startup.json", "claim-device.json"]) {
      const flow = example(name);
      flow.some((n) => n.type === "comment" && typeof n.info === "string" && (n.info as string).length > 50).should.be.true();
      for (const n of flow) (ours.has(n.type) || core.has(n.type)).should.be.true(`${name}: ${n.type}`);
    }
  });

  it("rpc-answer: answers setSpeed and getSpeed on Pump 1", async () => {
    const flow = example("rpc-answer.json");
    await load(flow, emu.url);
    await until(() => emu.device("Pump 1")?.connected, 5000, "Pump 1 connected by the inject");
    should(await emu.callRpc("Pump 1", "setSpeed", { rpm: 1200 }, 3000)).eql({ rpm: 1200 });
    should(await emu.callRpc("Pump 1", "getSpeed", {}, 3000)).eql({ rpm: 1200 });
    should(await emu.callRpc("Pump 1", "setSpeed", "fast", 3000)).eql({ error: "params must be {rpm: number}" });
  });

  it("shared-attribute-setting: a shared attribute changed in ThingsBoard becomes the flow's setpoint", async () => {
    const flow = example("shared-attribute-setting.json");
    await load(flow, emu.url);
    await until(() => emu.device("Boiler 1")?.connected, 5000, "Boiler 1 connected");
    emu.setSharedAttributes("Boiler 1", { setpoint: 75 });
    const change = helper.getNode(byType(flow, "change"));
    await until(() => change.context().flow.get("setpoint") === 75, 3000, "flow.setpoint = 75");
  });

  it("attribute-request-at-startup: outputs Meter 7's attributes at deploy", async () => {
    const flow = example("attribute-request-at-startup.json");
    const got: Array<Record<string, unknown>> = [];
    await load(flow, emu.url);
    helper.getNode(byType(flow, "debug", "attributes")).on("input", (m: Record<string, unknown>) => got.push(m));
    await until(() => got.length === 1, 5000, "the answer");
    got[0].should.have.properties({ device: "Meter 7", payload: {}, source: "request" });
    emu.journal().filter((j) => j.kind === "attributeRequest").map((j) => j.detail).should.eql([{ id: 1, client: false, keys: ["interval", "mode"] }]);
  });

  it("claim-device: opens Meter 7's claiming window for 10 minutes", async () => {
    const flow = example("claim-device.json");
    await load(flow, emu.url);
    await until(() => emu.gatewayConnected(), 5000, "gateway connection");
    const acked: unknown[] = [];
    helper.getNode(byType(flow, "debug", "claim window open")).on("input", (m: unknown) => acked.push(m));
    helper.getNode(byType(flow, "inject")).receive({});
    await until(() => acked.length === 1, 5000, "claim acknowledged");
    emu.claims("Meter 7").should.eql([{ secretKey: "abc123", durationMs: 600000 }]);
  });
});
