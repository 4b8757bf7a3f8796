// The example flow examples/modbus-to-thingsboard.json, as shipped, in a Node-RED runtime with
// the boiler simulator and the ThingsBoard emulator: telemetry and the attribute arrive, and a
// platform RPC writes the setpoint (scaled) and gets its answer.
import * as fs from "fs";
import * as path from "path";
import should from "should";
import { ThingsBoardEmulator } from "../../emulator/thingsboard";
import { startModbusSimulator, type ModbusSimulator } from "../../emulator/modbus-sim";
import { helper, load, until, type FlowNode } from "../support/red";

function example(): FlowNode[] {
  const file = [path.resolve(__dirname, "../../../examples/modbus-to-thingsboard.json"), path.resolve(process.cwd(), "examples/modbus-to-thingsboard.json")].find((f) => fs.existsSync(f)) as string;
  const flow = JSON.parse(fs.readFileSync(file, "utf8")) as FlowNode[];
  // the test runtime has no comment or debug nodes: a helper node stands in for the debug
  return flow.filter((n) => n.type !== "comment").map((n) => (n.type === "debug" ? { id: n.id, type: "helper" } : n));
}

describe("example flow: modbus-to-thingsboard with the boiler simulator", function () {
  let emu: ThingsBoardEmulator;
  let sim: ModbusSimulator;

  beforeEach(async () => {
    emu = await ThingsBoardEmulator.start();
    sim = await startModbusSimulator({ port: 0, tickMs: 50 });
    await new Promise<void>((r) => helper.startServer(() => r()));
  });

  afterEach(async () => {
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
    await sim.stop();
    await emu.stop();
  });

  it("sends the boiler's values and firmware attribute, and answers RPC set/get with register writes and reads", async () => {
    const flow = example();
    const gw = flow.find((n) => n.type === "gateway-config") as FlowNode;
    gw.url = emu.url;
    const conn = flow.find((n) => n.type === "modbus-connection") as FlowNode;
    conn.port = String(sim.port);
    await load(flow, { [gw.id]: { token: "GATEWAY_TOKEN" } });

    await until(() => emu.telemetry("Boiler").length > 0, 8000, "boiler telemetry");
    const values = emu.telemetry("Boiler")[0].values;
    should(Object.keys(values).sort()).eql(["alarm", "pressure", "pump", "setpoint", "temperature"]);
    should(values.setpoint).equal(60);
    should(values.pump).equal(true);
    should(values.pressure).be.a.Number().and.be.within(1, 3);
    should(emu.device("Boiler")).have.property("profile", "Boiler");
    await until(() => emu.clientAttributes("Boiler").firmware === "FW 2.1.0", 5000, "firmware attribute");

    should(await emu.callRpc("Boiler", "set", { key: "setpoint", value: 45.5 }, 5000)).eql({ setpoint: 45.5 });
    should(sim.state().setpoint).equal(45.5);
    should(await emu.callRpc("Boiler", "get", { key: "setpoint" }, 5000)).eql({ setpoint: 45.5 });
    should(await emu.callRpc("Boiler", "set", { pump: false }, 5000)).eql({ pump: false });
    should(sim.state().pump).be.false();
    const refused = (await emu.callRpc("Boiler", "set", { key: "temperature", value: 1 }, 5000)) as { error: string };
    should(refused.error).equal("modbus-source: cannot write: key temperature is not writable");
    await until(() => emu.telemetry("Boiler").some((p) => p.values.setpoint === 45.5), 5000, "the new setpoint polled");
  });
});
