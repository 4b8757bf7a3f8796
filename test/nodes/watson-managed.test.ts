// A managed Watson IoT gateway in a real Node-RED runtime against the Watson emulator: manage for
// the gateway and its devices (with the device-connect msg's metadata), renewed before the lifetime
// runs out and after a reconnect, refusals and silence as catchable errors and a status, device
// actions answered by the flow (or 501 by the package), unmanage on disconnect, and the location,
// log and error-code updates from event-out.
import should from "should";
import { WatsonEmulator } from "../../emulator/watson";
import { gatewayNode, helper, nextMsg, nodes, until, type FlowNode } from "../support/red";

type Msg = Record<string, unknown>;

const eventOut = require("../../nodes/event-out");
const catchNode = require("@node-red/nodes/core/common/25-catch.js");
const completeNode = require("@node-red/nodes/core/common/24-complete.js");

const GW = { platform: "watson", watsonOrg: "abc123", watsonType: "gateway-type", watsonId: "gateway-1", watsonManaged: true };

function load(flow: FlowNode[]): Promise<void> {
  const onTab = flow.map((n) => (n.type === "gateway-config" ? n : { x: 100, y: 100, ...n, z: "flow" }));
  const all = [{ id: "flow", type: "tab", label: "test" }, ...onTab];
  return new Promise((resolve, reject) => helper.load([...Object.values(nodes), eventOut, catchNode, completeNode], all, { gw: { token: "GATEWAY_TOKEN" } }, (err?: Error) => (err ? reject(err) : resolve())));
}

function flow(url: string, gw: Record<string, unknown> = {}, methods = "reboot,factory_reset"): FlowNode[] {
  const scope = ["dc", "evt", "gwevt", "answer"];
  return [
    { id: "dc", type: "device-connect", gateway: "gw", device: "device", deviceType: "msg", profile: "sensor", profileType: "str", action: "connect", wires: [] },
    { id: "evt", type: "event-out", gateway: "gw", target: "device", device: "device", deviceType: "msg", method: "topic", methodType: "msg", wires: [] },
    { id: "gwevt", type: "event-out", gateway: "gw", target: "gateway", device: "", deviceType: "str", method: "topic", methodType: "msg", wires: [] },
    { id: "rpc", type: "rpc-in", gateway: "gw", target: "both", devices: "", methods, autoAnswer: "", wires: [["actions"]] },
    { id: "answer", type: "rpc-response", gateway: "", wires: [] },
    { id: "actions", type: "helper" },
    { id: "catch", type: "catch", scope, uncaught: false, wires: [["errors"]] },
    { id: "complete", type: "complete", scope, uncaught: false, wires: [["completed"]] },
    { id: "errors", type: "helper" },
    { id: "completed", type: "helper" },
    gatewayNode(url, { ...GW, ...gw }),
  ];
}

let ended: Array<{ ok: boolean; msg: Msg }> = [];

async function end(node: string, msg: Msg): Promise<{ ok: boolean; msg: Msg }> {
  const before = ended.length;
  helper.getNode(node).receive(msg);
  await until(() => ended.length > before, 8000, `the end of a msg at ${node}`);
  return ended[before];
}

async function done(node: string, msg: Msg): Promise<void> {
  const e = await end(node, msg);
  if (!e.ok) throw new Error(`expected done(), got ${JSON.stringify((e.msg.error as { message: unknown }).message)}`);
}

async function failed(node: string, msg: Msg): Promise<string> {
  const e = await end(node, msg);
  if (e.ok) throw new Error("expected done(err), got done()");
  return String((e.msg.error as { message: string }).message);
}

describe("A managed Watson IoT gateway in a Node-RED runtime against the Watson emulator", function () {
  let emu: WatsonEmulator;

  async function start(gw: Record<string, unknown> = {}, methods?: string): Promise<void> {
    emu = await WatsonEmulator.start();
    await load(flow(emu.url, gw, methods));
    ended = [];
    helper.getNode("completed").on("input", (m: Msg) => ended.push({ ok: true, msg: m }));
    helper.getNode("errors").on("input", (m: Msg) => ended.push({ ok: false, msg: m }));
    await until(() => emu.subscribed("iotdm-1/type/+/id/+/#") && emu.managed("gateway-type", "gateway-1"), 5000, "the gateway managed");
  }

  beforeEach(async () => {
    await new Promise<void>((r) => helper.startServer(() => r()));
  });

  afterEach(async () => {
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
    await emu?.stop();
  });

  it("manages the gateway after connecting, and each device with the device-connect msg's deviceInfo and metadata", async () => {
    await start();
    emu.managed("gateway-type", "gateway-1")!.should.match({ lifetime: 3600, supports: { deviceActions: true, firmwareActions: false } });
    await done("dc", { device: "s1", deviceInfo: { model: "T-100", fwVersion: "1.2" }, metadata: { room: "lab" } });
    emu.managed("sensor", "s1")!.should.match({ lifetime: 3600, supports: { deviceActions: true, firmwareActions: false }, deviceInfo: { model: "T-100", fwVersion: "1.2" }, metadata: { room: "lab" } });
    emu.registered("sensor", "s1").should.be.true();
    (await failed("dc", { device: "s2", metadata: "room 1" })).should.match(/msg.metadata must be an object/);
    emu.violations().should.eql([]);
  });

  it("manages the gateway and its devices again after the server drops the connection, with the same metadata", async () => {
    await start();
    await done("dc", { device: "s1", metadata: { room: "lab" } });
    emu.drop();
    await until(() => !emu.gatewayConnected(), 3000, "the drop");
    await until(() => emu.managed("gateway-type", "gateway-1")!.manages >= 2 && emu.managed("sensor", "s1")!.manages >= 2, 8000, "the re-manage after the reconnect");
    emu.managed("sensor", "s1")!.metadata.should.eql({ room: "lab" });
  });

  it("a redeployed gateway-config manages the gateway and its devices again, with the new lifetime, and the platform keeps their metadata", async () => {
    await start();
    await done("dc", { device: "s1", metadata: { room: "lab" } });
    const changed = flow(emu.url, { watsonLifetime: 7200 });
    const onTab = [{ id: "flow", type: "tab", label: "test" }, ...changed.map((n) => (n.type === "gateway-config" ? n : { x: 100, y: 100, ...n, z: "flow" }))];
    await helper.setFlows(onTab, "nodes");
    await until(() => emu.managed("sensor", "s1")?.lifetime === 7200 && emu.managed("gateway-type", "gateway-1")?.lifetime === 7200, 8000, "the re-manage after the redeploy");
    emu.managed("sensor", "s1")!.metadata.should.eql({ room: "lab" });
  });

  it("an unanswered re-manage of a device after a reconnect is a warning", async () => {
    await start({ ackTimeout: 1 });
    await done("dc", { device: "s1" });
    emu.silenceDm();
    emu.drop();
    await until(() => !emu.gatewayConnected(), 3000, "the drop");
    const warnings = (): string[] => (helper.getNode("gw") as unknown as { warn: { args: unknown[][] } }).warn.args.map((a) => String(a[0]));
    await until(() => warnings().some((w) => /announcing "s1" again failed: .*no acknowledgement from the platform within 1000 ms \(iotdevice-1\/type\/sensor\/id\/s1\/mgmt\/manage\)/.test(w)), 8000, "the warning");
  });

  it("renews manage before the lifetime runs out (a short renewal period through the test knob)", async () => {
    await start({ watsonRenewMs: 200 });
    await done("dc", { device: "s1" });
    await until(() => emu.managed("gateway-type", "gateway-1")!.manages >= 3 && emu.managed("sensor", "s1")!.manages >= 3, 8000, "renewals");
    emu.dmRequests("mgmt/manage").every((r) => r.rc === 200).should.be.true();
  });

  it("a refused manage ends the device-connect msg with a catchable error carrying rc and message; an unanswered one after the ack timeout", async () => {
    await start({ ackTimeout: 1 });
    emu.refuseManage("sensor", "s1", 409, "a conflicting request is in progress");
    (await failed("dc", { device: "s1" })).should.match(/rc 409/).and.match(/a conflicting request is in progress/).and.match(/manage of sensor\/s1/);
    emu.silenceDm();
    (await failed("dc", { device: "s2" })).should.match(/no acknowledgement from the platform within 1000 ms/);
  });

  it("a refused manage of the gateway itself is a warning and shows on the nodes' status", async () => {
    emu = await WatsonEmulator.start();
    emu.refuseManage("gateway-type", "gateway-1", 500, "internal error");
    await load(flow(emu.url));
    // The test runtime has no catalogues: the status shows its key.
    const status = (): { text?: string; fill?: string } | undefined => (helper.getNode("dc") as unknown as { status: { lastCall?: { args: Array<{ text?: string; fill?: string }> } } }).status.lastCall?.args[0];
    await until(() => status()?.text === "gateway-config.status.not-managed", 5000, "the status not managed");
    should(status()?.fill).equal("yellow");
    const warned = (helper.getNode("gw") as unknown as { warn: { args: unknown[][] } }).warn.args.map((a) => String(a[0]));
    warned.some((w) => /refused the manage of gateway-type\/gateway-1: rc 500, "internal error"/.test(w)).should.be.true();
  });

  it("an unanswered manage of the gateway itself is a warning and the status too, cleared when a later manage is answered", async () => {
    emu = await WatsonEmulator.start();
    emu.silenceDm();
    await load(flow(emu.url, { ackTimeout: 1, watsonRenewMs: 1500 }));
    const status = (): { text?: string } | undefined => (helper.getNode("dc") as unknown as { status: { lastCall?: { args: Array<{ text?: string }> } } }).status.lastCall?.args[0];
    await until(() => status()?.text === "gateway-config.status.not-managed", 5000, "the status not managed");
    const warned = (helper.getNode("gw") as unknown as { warn: { args: unknown[][] } }).warn.args.map((a) => String(a[0]));
    warned.some((w) => /no acknowledgement from the platform within 1000 ms \(iotdevice-1\/type\/gateway-type\/id\/gateway-1\/mgmt\/manage\)/.test(w)).should.be.true();
    emu.silenceDm(false);
    await until(() => status()?.text === "gateway-config.status.connected", 8000, "connected again after the renewal is answered");
  });

  it("a device action reaches rpc-in and the flow's answer 202 goes back; one nothing watches is answered 501 by the package; a refused answer leaves the action open for a right one", async () => {
    await start({}, "reboot");
    await done("dc", { device: "s1" });
    const next = nextMsg("actions");
    const reqId = emu.initiate("sensor", "s1", "reboot");
    const msg = await next;
    msg.should.match({ method: "reboot", device: "s1", deviceType: "sensor", deviceId: "s1", reqId });
    await done("answer", { ...msg, payload: 202 });
    (await emu.waitFor(() => emu.actionResponse(reqId), 3000, "the answer")).should.match({ rc: 202 });
    const gwNext = nextMsg("actions");
    const gwReq = emu.initiate("gateway-type", "gateway-1", "reboot");
    const g = await gwNext;
    should(g.device).be.undefined();
    await done("answer", { ...g, payload: { rc: 500, message: "busy" } });
    (await emu.waitFor(() => emu.actionResponse(gwReq), 3000, "the gateway's answer")).should.match({ rc: 500, message: "busy" });
    const reset = emu.initiate("sensor", "s1", "factory_reset");
    (await emu.waitFor(() => emu.actionResponse(reset), 3000, "the automatic answer")).should.match({ rc: 501 });
    const again = nextMsg("actions");
    const bad = emu.initiate("sensor", "s1", "reboot");
    const m2 = await again;
    (await failed("answer", { ...m2, payload: "done" })).should.match(/must be 202 \(accepted\), 500 \(failed\) or 501/);
    should(emu.actionResponse(bad)).be.undefined();
    // the refused answer left the action open: the flow's corrected answer still reaches the platform
    await done("answer", { ...m2, payload: 202 });
    (await emu.waitFor(() => emu.actionResponse(bad), 3000, "the corrected answer")).should.match({ rc: 202 });
    emu.violations().should.eql([]);
  });

  it("unmanages a device when device-connect disconnects it", async () => {
    await start();
    await done("dc", { device: "s1" });
    should(emu.managed("sensor", "s1")).be.ok();
    await done("dc", { device: "s1", action: "disconnect" });
    should(emu.managed("sensor", "s1")).be.undefined();
    emu.dmRequests("mgmt/unmanage").map((r) => [r.id, r.rc]).should.eql([["s1", 200]]);
  });

  it("event-out's location, log and errorCode are device management updates; null clears; a bad shape fails before sending", async () => {
    await start();
    await done("dc", { device: "s1" });
    await done("evt", { device: "s1", topic: "location", payload: { latitude: 52.52, longitude: 13.4, elevation: 34, measuredDateTime: "2026-01-01T00:00:00Z" } });
    emu.managed("sensor", "s1")!.location!.should.eql({ latitude: 52.52, longitude: 13.4, elevation: 34, measuredDateTime: "2026-01-01T00:00:00.000Z" });
    await done("evt", { device: "s1", topic: "log", payload: "battery low" });
    await done("evt", { device: "s1", topic: "log", payload: { message: "sensor fault", severity: "error", data: "e1" } });
    emu.managed("sensor", "s1")!.log.map((l) => [l.message, l.severity]).should.eql([["battery low", 0], ["sensor fault", 2]]);
    await done("evt", { device: "s1", topic: "errorCode", payload: 3 });
    await done("evt", { device: "s1", topic: "errorCode", payload: { errorCode: 7 } });
    emu.managed("sensor", "s1")!.errorCodes.should.eql([3, 7]);
    await done("evt", { device: "s1", topic: "errorCode", payload: null });
    await done("evt", { device: "s1", topic: "log", payload: null });
    emu.managed("sensor", "s1")!.errorCodes.should.eql([]);
    emu.managed("sensor", "s1")!.log.should.eql([]);
    await done("gwevt", { topic: "errorCode", payload: 12 });
    emu.managed("gateway-type", "gateway-1")!.errorCodes.should.eql([12]);
    const before = emu.dmRequests().length;
    (await failed("evt", { device: "s1", topic: "location", payload: { latitude: "north" } })).should.match(/latitude must be a number/);
    (await failed("evt", { device: "s1", topic: "errorCode", payload: 1.5 })).should.match(/an integer/);
    emu.dmRequests().length.should.equal(before);
    emu.events().should.eql([]); // none of them went up as an event
  });

  it("rejects a lifetime the platform refuses at deploy, and every msg with that reason", async () => {
    emu = await WatsonEmulator.start();
    await load(flow(emu.url, { watsonLifetime: 600 }));
    ended = [];
    helper.getNode("completed").on("input", (m: Msg) => ended.push({ ok: true, msg: m }));
    helper.getNode("errors").on("input", (m: Msg) => ended.push({ ok: false, msg: m }));
    (await failed("dc", { device: "s1" })).should.match(/lifetime must be 0 \(never dormant\) or at least 3600 seconds, got 600/);
    emu.gatewayConnected().should.be.false();
  });
});
