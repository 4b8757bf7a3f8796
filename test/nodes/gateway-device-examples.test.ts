// The gateway-device example flows, imported as a user would, run against the emulator: what
// their Comment nodes promise is what they do.
import * as fs from "fs";
import * as path from "path";
import should from "should";
import { ThingsBoardEmulator } from "../../emulator/thingsboard";
import { helper, nodes, until, type FlowNode } from "../support/red";

const CORE = ["common/20-inject.js", "common/21-debug.js", "common/90-comment.js", "common/25-catch.js", "common/25-status.js", "function/10-function.js"].map((f) => require(`@node-red/nodes/core/${f}`));

function example(name: string): FlowNode[] {
  for (let dir = __dirname; path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    const file = path.join(dir, "examples", name);
    if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, "utf8")) as FlowNode[];
  }
  throw new Error(`examples/${name} not found`);
}

/** The example with its gateway pointed at the emulator, and a helper node behind `tap` (a node id) when given. */
function load(flow: FlowNode[], url: string, tap?: string, gwSet: Record<string, unknown> = {}, credentials: Record<string, string> = { token: "GATEWAY_TOKEN" }): Promise<void> {
  const gw = flow.find((n) => n.type === "gateway-config")!;
  const nodesOnTab = flow.map((n) => {
    if (n.type === "gateway-config") return { ...n, url, reconnectMin: "0.2", ...gwSet };
    const wired = n.id === tap ? { wires: [[...((n.wires as string[][] | undefined)?.[0] ?? []), "tap"]] } : {};
    return { ...n, ...wired, z: "flow" };
  });
  const all = [{ id: "flow", type: "tab", label: "example" }, ...nodesOnTab, ...(tap ? [{ id: "tap", type: "helper", z: "flow" }] : [])];
  return new Promise((resolve, reject) => helper.load([...Object.values(nodes), ...CORE], all, { [gw.id]: credentials }, (err?: Error) => (err ? reject(err) : resolve())));
}

function byType(flow: FlowNode[], type: string): string {
  const n = flow.find((x) => x.type === type);
  if (!n) throw new Error(`no ${type} in the example`);
  return n.id;
}

describe("example flows of the gateway as a device", function () {
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

  it("gateway-statistics: sends Sensor 1's readings; its gateway, saved without the new properties, keeps the statistics on (gateway_stats counts them)", async () => {
    const flow = example("gateway-statistics.json");
    should(flow.find((n) => n.type === "gateway-config")).not.have.property("statsPeriod");
    await load(flow, emu.url);
    await emu.waitFor(() => emu.telemetry("Sensor 1").length > 0, 5000);
    const stats = (await emu.callGatewayRpc("gateway_stats")) as { resp: Record<string, number> };
    stats.resp.msgsIn.should.be.above(0);
    stats.resp.devices.should.equal(1);
  });

  it("gateway-service-rpcs: the package answers gateway_ping and gateway_devices, the flow answers setLogLevel", async () => {
    await load(example("gateway-service-rpcs.json"), emu.url);
    await emu.waitFor(() => emu.device("Pump 1")?.connected, 5000);
    should(await emu.callGatewayRpc("gateway_ping")).eql({ code: 200, resp: "pong" });
    should(await emu.callGatewayRpc("gateway_devices")).eql({ code: 200, resp: { "Pump 1": "pump" } });
    should(await emu.callGatewayRpc("setLogLevel", { level: "debug" })).eql({ code: 200, resp: { logLevel: "debug" } });
    should(await emu.callGatewayRpc("reboot")).eql({ code: 404, resp: "unknown method reboot" });
  });

  it("gateway-rpc-request: asks getCurrentTime at deploy and shows the server's answer", async () => {
    const flow = example("gateway-rpc-request.json");
    await load(flow, emu.url, byType(flow, "rpc-request"));
    const out: Array<Record<string, unknown>> = [];
    helper.getNode("tap").on("input", (m: Record<string, unknown>) => out.push(m));
    const req = await emu.waitFor(() => emu.journal().find((j) => j.kind === "gatewayRpc" && (j.detail as { method: string }).method === "getCurrentTime"), 8000);
    const { id, params } = req.detail as { id: number; params: unknown };
    should(params).eql({});
    // What the rule chain of the comment does: script → rpc call reply.
    emu.sendRaw(`v1/devices/me/rpc/response/${id}`, JSON.stringify({ time: 1700000000000 }));
    await until(() => out.length === 1, 5000, "the answer");
    should(out[0].payload).eql({ time: 1700000000000 });
  });

  it("gateway-provisioning: set to provision as its comment says, the gateway provisions itself once, then Sensor P1's readings arrive through it", async () => {
    const flow = example("gateway-provisioning.json");
    should(String(flow.find((n) => n.type === "comment")!.info)).match(/Provision from a key and secret/);
    emu.allowProvisioning({ key: "PROFILE_KEY", secret: "PROFILE_SECRET" });
    const dir = fs.mkdtempSync(path.join(require("os").tmpdir(), "iotgw-example-provision-"));
    try {
      await load(flow, emu.url, undefined, { auth: "provision", provisionDevice: "Edge gateway", provisionType: "ACCESS_TOKEN", storePath: dir }, { provisionKey: "PROFILE_KEY", provisionSecret: "PROFILE_SECRET" });
      await emu.waitFor(() => emu.telemetry("Sensor P1").length > 0, 8000);
      emu.device("Sensor P1")!.gateway.should.equal("Edge gateway");
      emu.device("Edge gateway")!.isGateway.should.be.true();
      emu.provisionAttempts().map((a) => a.response.status).should.eql(["SUCCESS"]);
      // What telemetry-out showed, and the status node hands to the "gateway status" debug: provisioning, then connected.
      const tel = helper.getNode(byType(flow, "telemetry-out")) as unknown as { status: { args: Array<[{ text?: string }]> } };
      const texts = tel.status.args.map((a) => a[0].text);
      texts.indexOf("gateway-config.status.provisioning").should.be.within(0, texts.lastIndexOf("gateway-config.status.connected"));
    } finally {
      await helper.unload();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
