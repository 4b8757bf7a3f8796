// gateway-config with its store, in a Node-RED runtime against the emulator: which store an old
// flow gets, when done() comes, what a redeploy (also to another broker URL) carries over, the
// status while data waits (and how often it changes), caps and age limits through the node, an
// unusable folder, and the folder's life across redeploys and deletion.
import fs from "fs";
import os from "os";
import path from "path";
import should from "should";
import { ThingsBoardEmulator } from "../../emulator/thingsboard";
import type { GatewayConfigNode } from "../../nodes/common/gateway-types";
import { collect, gatewayNode, helper, load, until, type FlowNode } from "../support/red";

const telemetryNode = (id: string, extra: Record<string, unknown> = {}): FlowNode => ({ id, type: "telemetry-out", gateway: "gw", device: "device", deviceType: "msg", profile: "", profileType: "str", autoConnect: true, ...extra });
const OFFLINE = "mqtt://127.0.0.1:1";

type Spy = { callCount: number; lastCall?: { args: unknown[] }; args: unknown[][] };
const spyOf = (id: string): Spy => (helper.getNode(id) as unknown as { status: Spy }).status;
const statusOf = (id: string): { fill?: string; shape?: string; text?: string } => (spyOf(id).lastCall?.args[0] ?? {}) as { text?: string };
const gw = (): GatewayConfigNode => helper.getNode("gw") as unknown as GatewayConfigNode;

/**
 * helper.setFlows, which gives the runtime only 300 ms to restart the flows: closing a store
 * that holds thousands of msgs (and a busy machine) can take longer. Waits for the new nodes.
 */
async function redeploy(flow: FlowNode[], type: "full" | "nodes"): Promise<void> {
  const before = helper.getNode("gw");
  try {
    await helper.setFlows(flow, type);
  } catch (err) {
    if (!/timeout waiting event/.test((err as Error).message)) throw err;
  }
  const wanted = flow.some((n) => n.id === "gw");
  await until(() => (wanted ? helper.getNode("gw") && helper.getNode("gw") !== before : !helper.getNode("gw")), 15000, "the redeployed flow");
}

function withTab(flow: FlowNode[]): FlowNode[] {
  return [{ id: "flow", type: "tab", label: "test" }, ...flow.map((n) => (n.type === "gateway-config" ? n : { x: 100, y: 100, ...n, z: "flow" }))];
}

function flowWith(url: string, gwExtra: Record<string, unknown>): FlowNode[] {
  return [
    telemetryNode("tel"),
    { id: "complete", type: "complete", scope: ["tel"], uncaught: false, wires: [["completed"]] },
    { id: "completed", type: "helper" },
    { id: "catch", type: "catch", scope: ["tel"], uncaught: false, wires: [["errors"]] },
    { id: "errors", type: "helper" },
    gatewayNode(url, gwExtra),
  ];
}

const ns = (emu: ThingsBoardEmulator, device: string): number[] => emu.telemetry(device).map((p) => p.values.n as number);
const errText = (m: Record<string, unknown>): string => (m.error as { message: string }).message;

describe("gateway-config store", function () {
  let emu: ThingsBoardEmulator;
  let root: string;

  beforeEach(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "store-config-"));
    emu = await ThingsBoardEmulator.start();
    await new Promise<void>((r) => helper.startServer(() => r()));
  });

  afterEach(async () => {
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
    await emu.stop();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it("keeps the memory store and done-on-acknowledge for a flow saved before the store existed", async () => {
    // exactly the properties of the previous release: no storeType, storePath, doneWhen…
    await load(flowWith(OFFLINE, {}));
    const completed = collect("completed");
    for (let n = 0; n < 20; n++) helper.getNode("tel").receive({ device: "Meter", payload: { n } });
    await until(() => gw().stats()?.waiting === 20, 2000, "20 waiting");
    await new Promise((r) => setTimeout(r, 200));
    completed.length.should.equal(0); // nothing is done before the server has it
    gw().stats()!.store.should.equal("memory");
  });

  it("with the disk store, done() comes once a msg is on disk; all of it arrives in order after the reconnect", async () => {
    const dir = path.join(root, "gw");
    await load(flowWith(emu.url, { storeType: "disk", storePath: dir, reconnectMin: 30, reconnectMax: 60 }));
    await until(() => emu.gatewayConnected(), 5000, "connected");
    emu.dropGateway();
    await until(() => !gw().session().connected, 2000, "dropped");
    const completed = collect("completed");
    for (let n = 0; n < 500; n++) helper.getNode("tel").receive({ device: "Meter", payload: { n } });
    await until(() => completed.length === 500, 5000, "500 done while offline");
    emu.telemetry("Meter").should.be.empty();
    fs.readdirSync(dir).some((f) => f.endsWith(".log") || /seg|\d/.test(f)).should.be.true();
    const s = gw().stats()!;
    s.should.have.properties({ store: "disk", waiting: 500 });
    s.bytes!.should.be.above(500 * 20);
    should(s.oldestAgeMs).be.a.Number();
    await until(() => /· 500 gateway-config.status.waiting, gateway-config.status.oldest \d/.test(statusOf("tel").text ?? ""), 3000, "waiting status");
    // a shorter reconnect delay, deployed: the successor delivers what waits
    await redeploy(withTab(flowWith(emu.url, { storeType: "disk", storePath: dir })), "nodes");
    await until(() => new Set(ns(emu, "Meter")).size === 500, 10000, "500 delivered");
    [...new Set(ns(emu, "Meter"))].should.eql(Array.from({ length: 500 }, (_, i) => i));
    await until(() => gw().stats()?.waiting === 0, 5000, "nothing waits");
  });

  for (const storeType of ["memory", "disk"]) {
    it(`carries 1000 queued msgs over to the new server when a redeploy changes the broker URL (${storeType} store)`, async () => {
      const other = await ThingsBoardEmulator.start();
      try {
        const extra = { storeType, storePath: path.join(root, "gw"), doneWhen: "acknowledged", reconnectMin: 30, reconnectMax: 60 };
        await load(flowWith(emu.url, extra));
        await until(() => emu.gatewayConnected(), 5000, "connected");
        emu.dropGateway();
        await until(() => !gw().session().connected, 2000, "dropped");
        const completed = collect("completed");
        const errors = collect("errors");
        for (let n = 0; n < 1000; n++) helper.getNode("tel").receive({ device: "Meter", payload: { n } });
        await until(() => gw().stats()!.waiting >= 1000, 5000, "1000 waiting").catch((e: Error) => { throw new Error(`${e.message}: ${JSON.stringify(gw().stats())} ${errors.length} ${completed.length} ${errors.length ? errText(errors[0]) : ""}`); });
        await redeploy(withTab(flowWith(other.url, { ...extra, reconnectMin: 0.2, reconnectMax: 1 })), "nodes");
        await until(() => completed.length + errors.length === 1000, 15000, "every msg ended");
        errors.length.should.equal(0);
        [...new Set(ns(other, "Meter"))].should.eql(Array.from({ length: 1000 }, (_, i) => i));
        ns(emu, "Meter").should.be.empty();
      } finally {
        await other.stop();
      }
    });
  }

  for (const to of ["another folder", "memory"]) {
    it(`empties the old store folder into the new store when a redeploy moves the store to ${to}`, async function () {
      this.timeout(60000);
      const dirA = path.join(root, "a");
      const extra = { storeType: "disk", storePath: dirA, reconnectMin: 30, reconnectMax: 60 };
      await load(flowWith(emu.url, extra));
      await until(() => emu.gatewayConnected(), 5000, "connected");
      emu.dropGateway();
      await until(() => !gw().session().connected, 2000, "dropped");
      const completed = collect("completed");
      const errors = collect("errors");
      // more than the store keeps in memory (20,000): the oldest wait in the old folder only
      const N = 25000;
      for (let n = 0; n < N; n++) helper.getNode("tel").receive({ device: "Meter", payload: { n } });
      await until(() => completed.length === N, 10000, "all stored");
      const moved = to === "memory" ? { storeType: "memory" } : { storePath: path.join(root, "b") };
      await redeploy(withTab(flowWith(emu.url, { ...extra, ...moved, reconnectMin: 0.2, reconnectMax: 1 })), "nodes");
      await until(() => new Set(ns(emu, "Meter")).size === N, 20000, "all delivered");
      [...new Set(ns(emu, "Meter"))].should.eql(Array.from({ length: N }, (_, i) => i));
      await until(() => !fs.existsSync(dirA), 5000, "the old folder emptied and removed");
      errors.length.should.equal(0);
    });
  }

  it("updates the status at most about once a second at the outbox bound, not once per refused msg", async function () {
    this.timeout(90000); // 10,000 msgs through a Catch node: slow on a busy machine, and the bound below scales with it
    await load(flowWith(OFFLINE, { maxQueued: 5 }));
    const errors = collect("errors");
    const before = spyOf("tel").callCount;
    const started = Date.now();
    const tel = helper.getNode("tel");
    for (let n = 0; n < 10005; n++) tel.receive({ device: "Meter", payload: { n } });
    await until(() => errors.length === 10000, 80000, "10,000 refusals");
    await new Promise((r) => setTimeout(r, 1100));
    const seconds = (Date.now() - started) / 1000;
    const updates = spyOf("tel").callCount - before;
    updates.should.be.belowOrEqual(Math.ceil(seconds) * 2 + 2);
    statusOf("tel").text!.should.match(/status.full/);
  });

  it("applies the byte cap through the node with both policies, each msg ended with a catchable error", async () => {
    for (const overflow of ["reject", "drop-oldest"]) {
      const dir = path.join(root, overflow);
      // 0.01 MiB: about a hundred small msgs
      await load(flowWith(OFFLINE, { storeType: "disk", storePath: dir, storeMaxMB: 0.01, overflow, doneWhen: "acknowledged" }));
      const errors = collect("errors");
      for (let n = 0; n < 400; n++) helper.getNode("tel").receive({ device: "Meter", payload: { n } });
      await until(() => errors.length > 0 && gw().stats()!.waiting + errors.length === 400, 5000, "cap applied");
      const s = gw().stats()!;
      s.bytes!.should.be.belowOrEqual(0.01 * 1024 * 1024);
      errText(errors[0]).should.match(/telemetry-out: the store is full/);
      if (overflow === "reject") s.disk!.refused.should.equal(errors.length);
      else s.disk!.dropped.should.equal(errors.length);
      await helper.unload();
    }
  });

  it("applies the maximum age through the node: drop-oldest drops what is too old, reject refuses new msgs meanwhile", async () => {
    await load(flowWith(OFFLINE, { storeType: "disk", storePath: path.join(root, "age-drop"), storeMaxAgeH: 0.5 / 3600, overflow: "drop-oldest", doneWhen: "acknowledged" }));
    let errors = collect("errors");
    for (let n = 0; n < 10; n++) helper.getNode("tel").receive({ device: "Meter", payload: { n } });
    await until(() => errors.length === 10, 5000, "10 expired");
    errText(errors[0]).should.match(/maximum age/);
    gw().stats()!.waiting.should.equal(0);
    await helper.unload();

    await load(flowWith(OFFLINE, { storeType: "disk", storePath: path.join(root, "age-reject"), storeMaxAgeH: 0.3 / 3600, overflow: "reject", doneWhen: "acknowledged" }));
    errors = collect("errors");
    for (let n = 0; n < 10; n++) helper.getNode("tel").receive({ device: "Meter", payload: { n } });
    await new Promise((r) => setTimeout(r, 500));
    helper.getNode("tel").receive({ device: "Meter", payload: { n: 10 } });
    await until(() => errors.length === 1, 3000, "the new msg refused");
    errText(errors[0]).should.match(/telemetry-out: the store is full: its oldest msg has waited .* more than the maximum age/);
    gw().stats()!.waiting.should.equal(10); // what waits is kept: reject never drops
  });

  it("says clearly when the store folder cannot be written: status, catchable errors, no crash", async () => {
    const file = path.join(root, "a-file");
    fs.writeFileSync(file, "not a folder");
    await load(flowWith(emu.url, { storeType: "disk", storePath: path.join(file, "store") }));
    await until(() => /store-failed/.test(statusOf("tel").text ?? ""), 3000, "store status");
    statusOf("tel").fill!.should.equal("red");
    const errors = collect("errors");
    for (let n = 0; n < 5; n++) helper.getNode("tel").receive({ device: "Meter", payload: { n } });
    await until(() => errors.length === 5, 3000, "5 errors");
    errText(errors[0]).should.match(/telemetry-out: .*not a folder|ENOTDIR/);
  });

  it("keeps its folder over a redeploy, and deletes it with the gateway-config", async () => {
    const dir = path.join(root, "kept");
    const flow = flowWith(OFFLINE, { storeType: "disk", storePath: dir });
    await load(flow);
    const completed = collect("completed");
    for (let n = 0; n < 10; n++) helper.getNode("tel").receive({ device: "Meter", payload: { n } });
    await until(() => completed.length === 10, 3000, "stored");
    await redeploy(withTab(flow.map((n) => (n.id === "gw" ? { ...n, batchWindow: 7 } : n))), "full");
    fs.existsSync(dir).should.be.true();
    await until(() => gw().stats()?.waiting === 10, 3000, "10 still waiting after the redeploy").catch((e: Error) => { throw new Error(`${e.message}: ${JSON.stringify(gw().stats())}`); });
    await redeploy(withTab(flow.filter((n) => n.id !== "gw").map((n) => (n.id === "tel" ? { ...n, gateway: "" } : n))), "full");
    await until(() => !fs.existsSync(dir), 3000, "folder removed");
  });

  it("keeps the device registry in the store folder, so a restart announces devices before their backlog", async () => {
    const dir = path.join(root, "devices");
    await load([...flowWith(OFFLINE, { storeType: "disk", storePath: dir }), { id: "dc", type: "device-connect", gateway: "gw", device: "device", deviceType: "msg", profile: "", profileType: "str", action: "connect", wires: [[]] }]);
    helper.getNode("dc").receive({ device: "Valve", profile: "Valves" });
    helper.getNode("tel").receive({ device: "Meter", payload: { n: 1 } });
    await until(() => fs.existsSync(path.join(dir, "devices.json")) && fs.readFileSync(path.join(dir, "devices.json"), "utf8").includes("Valves"), 3000, "devices.json");
    JSON.parse(fs.readFileSync(path.join(dir, "devices.json"), "utf8")).devices.should.containDeep([{ name: "Valve", profile: "Valves" }, { name: "Meter" }]);
  });

  it("keeps the platform's renames in the store folder: after a restart the flow's data for the old name goes to the renamed device", async () => {
    const dir = path.join(root, "renames");
    await load(flowWith(emu.url, { storeType: "disk", storePath: dir }));
    const completed = collect("completed");
    helper.getNode("tel").receive({ device: "A", payload: { n: 1 } });
    await until(() => completed.length === 1 && emu.telemetry("A").length === 1, 5000, "first msg delivered");
    await emu.renameDevice("A", "A2");
    await until(() => fs.existsSync(path.join(dir, "devices.json")) && fs.readFileSync(path.join(dir, "devices.json"), "utf8").includes("A2"), 3000, "the rename on disk");
    // a restart: the runtime stops every node (not a redeploy: nothing is handed over in memory)
    await helper.unload();
    await load(flowWith(emu.url, { storeType: "disk", storePath: dir }));
    const after = collect("completed");
    helper.getNode("tel").receive({ device: "A", payload: { n: 2 } });
    await until(() => after.length === 1 && emu.telemetry("A2").length === 2, 5000, "msg after the restart delivered");
    ns(emu, "A2").should.eql([1, 2]);
    should(emu.device("A")).be.undefined();
  });
});
