// Provisioning the gateway device from a provision key and secret, in a Node-RED runtime against
// the ThingsBoard emulator's /provision rules: the credentials received are kept, used from then
// on, and never asked for again (the server refuses a second provisioning of the same name).
import fs from "fs";
import os from "os";
import path from "path";
import should from "should";
import { ThingsBoardEmulator } from "../../emulator/thingsboard";
import type { GatewayConfigNode } from "../../nodes/common/gateway-types";
import { collect, gatewayNode, helper, load, until, type FlowNode } from "../support/red";

type Spy = { lastCall?: { args: unknown[] } };
const statusOf = (id: string): { fill?: string; shape?: string; text?: string } => ((helper.getNode(id) as unknown as { status: Spy }).status.lastCall?.args[0] ?? {}) as { text?: string };
/** A fresh object each time: the runtime keeps (and changes) the one it is given. */
const keys = (): Record<string, Record<string, string>> => ({ gw: { provisionKey: "KEY", provisionSecret: "SECRET" } });

function errorsLogged(): string[] {
  const spy = helper.log() as unknown as { args: Array<[{ level: number; msg: unknown; type?: string }]>; ERROR: number };
  return spy.args.map((a) => a[0]).filter((e) => e.level === spy.ERROR && e.type === "gateway-config").map((e) => String(e.msg));
}

function withTab(flow: FlowNode[]): FlowNode[] {
  return [{ id: "flow", type: "tab", label: "test" }, ...flow.map((n) => (n.type === "gateway-config" ? n : { x: 100, y: 100, ...n, z: "flow" }))];
}

describe("gateway-config: provisioning the gateway device (ThingsBoard emulator)", function () {
  this.timeout(30000);
  let emu: ThingsBoardEmulator;
  let dir: string;

  function flow(gw: Record<string, unknown> = {}): FlowNode[] {
    return [
      { id: "tel", type: "telemetry-out", gateway: "gw", device: "device", deviceType: "msg", profile: "", profileType: "str", autoConnect: true },
      { id: "complete", type: "complete", scope: ["tel"], uncaught: false, wires: [["completed"]] },
      { id: "completed", type: "helper" },
      gatewayNode(emu.url, { auth: "provision", provisionDevice: "Edge GW", provisionType: "ACCESS_TOKEN", storePath: dir, ...gw }),
    ];
  }

  beforeEach(async () => {
    emu = await ThingsBoardEmulator.start();
    emu.allowProvisioning({ key: "KEY", secret: "SECRET", profile: "edge gateways" });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "iotgw-provision-"));
    await new Promise<void>((r) => helper.startServer(() => r()));
  });

  afterEach(async () => {
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
    await emu.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("provisions once, connects with the token received, data arrives through the new gateway; a restart of the flow and of Node-RED never provisions again", async () => {
    await load(flow(), keys());
    const completed = collect("completed");
    // Sent before the gateway has credentials: it waits, then goes out through the provisioned gateway.
    helper.getNode("tel").receive({ device: "Boiler", payload: { temperature: 21 } });
    await until(() => completed.length === 1, 10000, "the msg acknowledged");
    emu.device("Edge GW")!.should.containEql({ isGateway: true, profile: "edge gateways", connected: true });
    emu.telemetry("Boiler").map((p) => p.values).should.eql([{ temperature: 21 }]);
    emu.device("Boiler")!.gateway.should.equal("Edge GW");
    const attempts = emu.provisionAttempts();
    attempts.should.have.length(1);
    (attempts[0].request as Record<string, unknown>).should.containEql({ deviceName: "Edge GW", provisionDeviceKey: "KEY", provisionDeviceSecret: "SECRET", credentialsType: "ACCESS_TOKEN", gateway: true });
    const token = (attempts[0].response as { credentialsValue: string }).credentialsValue;
    // In Node-RED's credential store (flows_cred at the next deploy), the key and secret kept.
    const stored = (helper.getNode("gw") as unknown as GatewayConfigNode).credentials;
    stored.should.containEql({ provisionKey: "KEY", provisionSecret: "SECRET" });
    JSON.parse(stored.provisioned!).credentials.should.eql({ accessToken: token });
    statusOf("tel").fill!.should.equal("green");

    // A full redeploy: the runtime's credential store gives the new gateway-config its token.
    await helper.setFlows(withTab(flow()), "full").catch((e: Error) => { if (!/timeout waiting event/.test(e.message)) throw e; });
    await until(() => emu.gatewayConnections("Edge GW") === 2, 10000, "the second connection");
    const again = collect("completed");
    helper.getNode("tel").receive({ device: "Boiler", payload: { temperature: 22 } });
    await until(() => again.length === 1, 10000, "the msg after the redeploy");

    // Node-RED restarted before any deploy wrote flows_cred: only the key and secret are stored.
    await helper.unload();
    await load(flow(), keys());
    await until(() => emu.gatewayConnections("Edge GW") === 3, 10000, "the connection after the restart");
    const third = collect("completed");
    helper.getNode("tel").receive({ device: "Boiler", payload: { temperature: 23 } });
    await until(() => third.length === 1, 10000, "the msg after the restart");
    emu.telemetry("Boiler").map((p) => p.values.temperature).should.eql([21, 22, 23]);
    emu.provisionAttempts().should.have.length(1);
    emu.journal().filter((j) => j.kind === "gatewayConnected").map((j) => (j.detail as { method: string }).method).should.eql(["token", "token", "token"]);
  });

  it("asks for MQTT basic credentials when told (disk store), and connects with the client id, username and password the server saved", async () => {
    await load(flow({ provisionType: "MQTT_BASIC", storeType: "disk" }), keys()); // the copy beside the disk store's files
    await until(() => emu.device("Edge GW")?.connected, 10000, "the provisioned gateway connected: " + JSON.stringify([statusOf("tel"), emu.provisionAttempts(), emu.journal()]));
    const [attempt] = emu.provisionAttempts();
    const req = attempt.request as Record<string, string>;
    req.credentialsType.should.equal("MQTT_BASIC");
    req.username.should.be.a.String().and.not.be.empty();
    req.password.should.be.a.String().and.not.be.empty();
    attempt.response.should.eql({ status: "SUCCESS", credentialsType: "MQTT_BASIC", credentialsValue: { clientId: req.clientId, userName: req.username, password: req.password } });
    const connected = emu.journal().filter((j) => j.kind === "gatewayConnected").map((j) => j.detail as { method: string; clientId: string });
    connected.should.eql([{ method: "basic", clientId: req.clientId, protocolVersion: 4 }]);
    const stored = JSON.parse((helper.getNode("gw") as unknown as GatewayConfigNode).credentials.provisioned!);
    stored.should.containEql({ deviceName: "Edge GW", credentialsType: "MQTT_BASIC" });
    stored.credentials.should.eql({ clientId: req.clientId, username: req.username, password: req.password });
    // The copy for a restart before the next deploy: beside the disk store, readable by its owner only.
    const copy = path.join(dir, "provisioned.json");
    (fs.statSync(copy).mode & 0o777).should.equal(0o600);
    JSON.parse(fs.readFileSync(copy, "utf8")).should.eql(stored);
    // Deleting the gateway-config takes the copy along.
    await helper.setFlows(withTab([]), "full").catch((e: Error) => { if (!/timeout waiting event/.test(e.message)) throw e; });
    await until(() => !fs.existsSync(copy), 10000, "the copy removed with the gateway-config");
  });

  it("NOT_FOUND (a wrong key): the status says so, the log has the server's reason, msgs wait; a key fixed on the server is picked up by a later attempt", async () => {
    await load(flow(), { gw: { provisionKey: "WRONG", provisionSecret: "SECRET" } });
    const completed = collect("completed");
    helper.getNode("tel").receive({ device: "Boiler", payload: { temperature: 21 } });
    await until(() => /provision-refused/.test(statusOf("tel").text ?? ""), 5000, "refused status");
    statusOf("tel").should.containEql({ fill: "red", shape: "ring" });
    await until(() => errorsLogged().some((m) => m.includes("NOT_FOUND (Provision data was not found!)")), 5000, "the refusal logged");
    should(emu.device("Edge GW")).be.undefined();
    completed.should.have.length(0);
    // The session (the sidebar reads it) says so too.
    (helper.getNode("gw") as unknown as GatewayConfigNode).session().state.should.eql({ state: "connecting", reason: "provisioning refused: NOT_FOUND (Provision data was not found!)" });
    should((helper.getNode("gw") as unknown as GatewayConfigNode).credentials.provisioned).be.undefined();

    // The retries back off; each distinct reason is logged once.
    emu.allowProvisioning({ key: "WRONG", secret: "SECRET" });
    await until(() => completed.length === 1, 15000, "the waiting msg delivered after the retry");
    const statuses = emu.provisionAttempts().map((a) => a.response.status);
    statuses[statuses.length - 1].should.equal("SUCCESS");
    statuses.slice(0, -1).every((s) => s === "NOT_FOUND").should.be.true();
    errorsLogged().filter((m) => m.includes("NOT_FOUND")).should.have.length(1);
    // Between the first refusal and the connection, the status kept saying why (no flicker at each retry).
    const texts = (helper.getNode("tel") as unknown as { status: { args: Array<[{ text?: string }]> } }).status.args.map((x) => x[0].text ?? "");
    const from = texts.indexOf("gateway-config.status.provision-refused");
    should(texts.slice(from).find((t) => t !== "gateway-config.status.provision-refused")).startWith("gateway-config.status.connecting");
    emu.telemetry("Boiler").should.have.length(1);
    statusOf("tel").fill!.should.equal("green");
  });

  it("FAILURE (the name exists already, e.g. provisioned before by another install): refused with the server's reason, never connected", async () => {
    await emu.stop();
    emu = await ThingsBoardEmulator.start({ gateways: [{ name: "Edge GW", token: "OLD_TOKEN" }] });
    emu.allowProvisioning({ key: "KEY", secret: "SECRET" });
    await load(flow(), keys());
    await until(() => /provision-refused/.test(statusOf("tel").text ?? ""), 5000, "refused status: " + JSON.stringify([statusOf("tel"), emu.provisionAttempts()]));
    await until(() => errorsLogged().some((m) => m.includes("FAILURE (Failed to provision device!)")), 5000, "the refusal logged");
    emu.gatewayConnections("Edge GW").should.equal(0);
  });

  it("a flow stopped while it provisions closes the provisioning connection: the request the server still holds is never answered", async () => {
    emu.setAckDelay(1500); // the server works on the request for 1.5 s
    await load(flow(), keys());
    await until(() => emu.largestPublish() > 0, 5000, "the request received");
    await helper.unload();
    await new Promise((r) => setTimeout(r, 2000));
    emu.provisionAttempts().should.have.length(0); // dropped with its connection
    should(emu.device("Edge GW")).be.undefined();
  });

  it("refuses at deploy a provisioning config without its key, secret or device name", async () => {
    await load(flow({ provisionDevice: "" }), keys());
    await until(() => statusOf("tel").fill === "red", 5000, "bad config status");
    errorsLogged().should.containEql("gateway-config.errors.provision-incomplete");
    emu.provisionAttempts().should.have.length(0);
  });
});
