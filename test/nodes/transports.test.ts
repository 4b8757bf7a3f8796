// gateway-config over every transport and authentication a user can choose.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import should from "should";
import { ThingsBoardEmulator } from "../../emulator/thingsboard";
import { hasCommand, requirePeer } from "../support/peers";
import { gatewayNode, helper, nodes, until, type FlowNode } from "../support/red";

const tlsNode = require("@node-red/nodes/core/network/05-tls.js");

function flow(gw: FlowNode, extra: FlowNode[] = []): FlowNode[] {
  return [
    { id: "flow", type: "tab", label: "t" },
    { id: "tel", type: "telemetry-out", z: "flow", x: 100, y: 100, gateway: "gw", device: "device", deviceType: "msg", profile: "", profileType: "str", autoConnect: true },
    { id: "complete", type: "complete", z: "flow", x: 100, y: 200, scope: ["tel"], uncaught: false, wires: [["completed"]] },
    { id: "completed", type: "helper", z: "flow", x: 300, y: 200 },
    gw,
    ...extra,
  ];
}

function load(f: FlowNode[], credentials: Record<string, unknown>): Promise<void> {
  return new Promise((resolve, reject) => helper.load([...Object.values(nodes), tlsNode], f, credentials, (err?: Error) => (err ? reject(err) : resolve())));
}

let run = 0;

async function delivers(emu: ThingsBoardEmulator, gateway: string): Promise<void> {
  const device = `via ${gateway} #${++run}`;
  await until(() => emu.gatewayConnected(gateway), 5000, `${gateway} connected`);
  const done = new Promise((r) => helper.getNode("completed").once("input", r));
  helper.getNode("tel").receive({ device, payload: { ok: 1 } });
  await done;
  emu.telemetry(device).map((p) => p.values).should.eql([{ ok: 1 }]);
  should(emu.device(device)).have.property("gateway", gateway);
}

describe("gateway-config transports and authentication", function () {
  let dir: string;
  let emu: ThingsBoardEmulator;
  const file = (f: string) => path.join(dir, f);

  before(async function () {
    requirePeer("openssl", hasCommand("openssl"), this);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "gw-tls-"));
    const ssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    ssl("req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=Test CA");
    ssl("req", ...ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1");
    fs.writeFileSync(file("server.ext"), "subjectAltName=IP:127.0.0.1\n");
    ssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", "server.ext");
    ssl("req", ...ec, "-keyout", "client.key", "-out", "client.csr", "-subj", "/CN=plant-gateway");
    ssl("x509", "-req", "-in", "client.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "client.crt", "-days", "2");
    emu = await ThingsBoardEmulator.start({
      wsPort: 0,
      tls: { key: fs.readFileSync(file("server.key")), cert: fs.readFileSync(file("server.crt")), ca: fs.readFileSync(file("ca.crt")), requestCert: true },
      gateways: [
        { name: "Token GW", token: "GATEWAY_TOKEN" },
        { name: "Basic GW", basic: { clientId: "plant-7", username: "gw-user", password: "s3cret" } },
        { name: "X509 GW", cn: "plant-gateway" },
      ],
    });
    await new Promise<void>((r) => helper.startServer(() => r()));
  });

  afterEach(() => helper.unload());

  after(async () => {
    await new Promise<void>((r) => helper.stopServer(() => r()));
    if (emu) await emu.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("connects over ws:// with an access token", async () => {
    await load(flow(gatewayNode(emu.wsUrl!)), { gw: { token: "GATEWAY_TOKEN" } });
    await delivers(emu, "Token GW");
  });

  it("connects with MQTT basic credentials (client id, username, password)", async () => {
    await load(flow(gatewayNode(emu.url, { auth: "basic", clientId: "plant-7" })), { gw: { username: "gw-user", password: "s3cret" } });
    await delivers(emu, "Basic GW");
  });

  it("connects over mqtts:// with an access token, verifying the server through the tls-config node", async () => {
    const tls: FlowNode = { id: "tls", type: "tls-config", cert: "", key: "", ca: file("ca.crt"), certname: "", keyname: "", caname: "", servername: "", verifyservercert: true };
    await load(flow(gatewayNode(emu.tlsUrl!, { tls: "tls" }), [tls]), { gw: { token: "GATEWAY_TOKEN" } });
    await delivers(emu, "Token GW");
  });

  it("authenticates by X.509 client certificate from the tls-config node", async () => {
    const tls: FlowNode = { id: "tls", type: "tls-config", cert: file("client.crt"), key: file("client.key"), ca: file("ca.crt"), certname: "", keyname: "", caname: "", servername: "", verifyservercert: true };
    await load(flow(gatewayNode(emu.tlsUrl!, { tls: "tls", auth: "x509" }), [tls]), { gw: {} });
    await delivers(emu, "X509 GW");
  });

  it("refuses a server certificate it cannot verify, and says so in the status", async () => {
    const tls: FlowNode = { id: "tls", type: "tls-config", cert: "", key: "", ca: "", certname: "", keyname: "", caname: "", servername: "", verifyservercert: true };
    await load(flow(gatewayNode(emu.tlsUrl!, { tls: "tls" }), [tls]), { gw: { token: "GATEWAY_TOKEN" } });
    const status = (helper.getNode("tel") as unknown as { status: { lastCall?: { args: Array<{ text?: string }> } } }).status;
    await until(() => /TLS failure/.test(status.lastCall?.args[0]?.text ?? ""), 5000, "TLS failure status");
  });
});
