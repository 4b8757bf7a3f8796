// The ThingsPanel example flows, imported as a user would, against the ThingsPanel emulator: what
// their Comment nodes promise is what they do.
import * as fs from "fs";
import * as path from "path";
import should from "should";
import { ThingsPanelEmulator } from "../../emulator/thingspanel";
import { DEMO_SUB_DEVICES } from "../../emulator/thingspanel/cli";
import { helper, nodes, until, type FlowNode } from "../support/red";

const CORE = ["common/20-inject.js", "common/21-debug.js", "common/90-comment.js", "common/25-catch.js", "function/15-change.js"].map((f) => require(`@node-red/nodes/core/${f}`));
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

describe("ThingsPanel example flows against the ThingsPanel emulator", function () {
  let emu: ThingsPanelEmulator;

  beforeEach(async () => {
    emu = await ThingsPanelEmulator.start({ subDevices: { "GW-0001": DEMO_SUB_DEVICES } });
    await new Promise<void>((r) => helper.startServer(() => r()));
  });

  afterEach(async () => {
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
    await emu.stop();
  });

  it("sensors → telemetry: sensor_001 and line-2/sensor_101 arrive in one envelope", async () => {
    await load(example("thingspanel-sensors-telemetry.json"), emu.url);
    await until(() => emu.telemetry("sensor_001").length > 0 && emu.telemetry("line-2/sensor_101").length > 0, 5000, "telemetry of both sensors");
    emu.telemetry("sensor_001")[0].values.should.have.keys("temperature", "humidity");
    emu.journal().filter((j) => j.kind === "telemetry").length.should.equal(1);
  });

  it("a command answered: the response for the message id is a success", async () => {
    await load(example("thingspanel-command-answered.json"), emu.url);
    await until(() => emu.subscribed("gateway/command/GW-0001/x"), 5000, "command subscription");
    should(await emu.command({ sub_device_data: { sensor_001: { method: "Calibrate", params: { offset: 0.5 } } } })).have.properties({ result: 0, method: "Calibrate" });
  });

  it("an attribute set applied: answered, and the applied value reported back", async () => {
    await load(example("thingspanel-attribute-set.json"), emu.url);
    await until(() => emu.subscribed("gateway/attributes/set/GW-0001/x"), 5000, "attribute set subscription");
    should(await emu.setAttributes({ sub_device_data: { sensor_001: { sampling_rate: 10 } } })).have.properties({ result: 0 });
    await until(() => emu.attributes("sensor_001").sampling_rate === 10, 5000, "the applied value reported");
  });

  it("an event: the gateway's SystemStarted and sensor_001's AlarmTriggered", async () => {
    await load(example("thingspanel-event.json"), emu.url);
    await until(() => emu.events("").length > 0 && emu.events("sensor_001").length > 0, 5000, "both events");
    emu.events("")[0].method.should.equal("SystemStarted");
    emu.events("sensor_001")[0].method.should.equal("AlarmTriggered");
  });
});
