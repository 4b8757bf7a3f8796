// The Watson IoT example flows, imported as a user would, against the Watson emulator: what their
// Comment nodes promise is what they do.
import * as fs from "fs";
import * as path from "path";
import should from "should";
import { WatsonEmulator } from "../../emulator/watson";
import { helper, nodes, until, type FlowNode } from "../support/red";

const CORE = ["common/20-inject.js", "common/21-debug.js", "common/90-comment.js", "common/25-catch.js", "function/15-change.js", "function/10-switch.js"].map((f) => require(`@node-red/nodes/core/${f}`));
const eventOut = require("../../nodes/event-out");

function example(name: string): FlowNode[] {
  for (let dir = __dirname; path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    const file = path.join(dir, "examples", name);
    if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, "utf8")) as FlowNode[];
  }
  throw new Error(`examples/${name} not found`);
}

function load(flow: FlowNode[], url: string): Promise<void> {
  const gw = flow.find((n) => n.type === "gateway-config")!;
  const onTab = flow.map((n) => (n.type === "gateway-config" ? { ...n, url, reconnectMin: "0.2" } : { ...n, z: "flow" }));
  const all = [{ id: "flow", type: "tab", label: "example" }, ...onTab];
  return new Promise((resolve, reject) => helper.load([...Object.values(nodes), eventOut, ...CORE], all, { [gw.id]: { token: "GATEWAY_TOKEN" } }, (err?: Error) => (err ? reject(err) : resolve())));
}

describe("Watson IoT example flows against the Watson emulator", function () {
  let emu: WatsonEmulator;

  beforeEach(async () => {
    emu = await WatsonEmulator.start();
    await new Promise<void>((r) => helper.startServer(() => r()));
  });

  afterEach(async () => {
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
    await emu.stop();
  });

  it("sensors → events: sensor-1 and sensor-2 of type sensor register and send {d, ts}", async () => {
    await load(example("watson-sensors-events.json"), emu.url);
    await until(() => emu.events("sensor", "sensor-1").length > 0 && emu.events("sensor", "sensor-2").length > 0, 5000, "events of both sensors");
    const e = emu.events("sensor", "sensor-1")[0];
    e.event.should.equal("telemetry");
    (e.payload as { d: object }).d.should.have.keys("temperature", "humidity");
    emu.registered("sensor", "sensor-2").should.be.true();
    emu.notifications().should.eql([]);
  });

  it("a command handled: the answer comes back as the device's {command}-reply event", async () => {
    await load(example("watson-command-handled.json"), emu.url);
    await until(() => emu.subscribed("iot-2/type/+/id/+/cmd/+/fmt/+"), 5000, "command subscription");
    emu.command("sensor", "sensor-1", "setInterval", { seconds: 10 }).should.equal(1);
    const reply = await emu.waitFor(() => emu.events("sensor", "sensor-1").find((e) => e.event === "setInterval-reply"), 5000, "the reply event");
    should((reply.payload as { d: unknown }).d).eql({ ok: true, command: "setInterval" });
  });

  it("a managed gateway: manage with deviceInfo and metadata, a reboot answered 202, a factory reset 501, location and log", async () => {
    await load(example("watson-managed-gateway.json"), emu.url);
    await until(() => emu.managed("gateway-type", "gateway-1") && emu.managed("sensor", "sensor-1"), 5000, "the gateway and sensor-1 managed");
    emu.managed("sensor", "sensor-1")!.should.match({ lifetime: 3600, deviceInfo: { model: "TH-20", manufacturer: "Acme", fwVersion: "1.4.2" }, metadata: { room: "boiler house" } });
    const reboot = emu.initiate("sensor", "sensor-1", "reboot");
    (await emu.waitFor(() => emu.actionResponse(reboot), 5000, "the reboot's answer")).should.match({ rc: 202 });
    const reset = emu.initiate("sensor", "sensor-1", "factory_reset");
    (await emu.waitFor(() => emu.actionResponse(reset), 5000, "the factory reset's answer")).should.match({ rc: 501, message: "a factory reset is done on site only" });
    await until(() => emu.managed("sensor", "sensor-1")!.location && emu.managed("sensor", "sensor-1")!.log.length > 0, 8000, "location and log");
    emu.managed("sensor", "sensor-1")!.location!.should.match({ latitude: 52.52, longitude: 13.405, elevation: 34 });
    emu.managed("sensor", "sensor-1")!.log[0].should.match({ message: "sensor-1 started", severity: 0 });
    emu.events().should.eql([]);
    emu.violations().should.eql([]);
  });
});
