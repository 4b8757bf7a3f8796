// modbus-source in a Node-RED runtime against an independent Modbus implementation: Debian's
// pymodbus over TCP, and over RTU on a socat pseudo-terminal pair.
import should from "should";
import { ThingsBoardEmulator } from "../../emulator/thingsboard";
import { PtyPair, PyModbusServer, pymodbusAvailable, socatAvailable } from "../modbus/servers";
import { requirePeer } from "../support/peers";
import { gatewayNode, helper, load, nextMsg, until } from "../support/red";
import { connectionNode, lastStatus, sourceNode } from "./modbus-support";

const MAP = [
  { key: "temperature", area: "holding", address: 0, type: "float32", order: "CDAB", round: 2 },
  { key: "pressure", area: "holding", address: 2, type: "int16", scale: 0.01 },
  { key: "energy", area: "holding", address: 8, type: "uint64", order: "DCBA" },
  { key: "setpoint", area: "holding", address: 20, type: "uint16", scale: 0.5, offset: 10, writable: true },
  { key: "status", area: "holding", address: 21, type: "bit", bit: 3 },
  { key: "volts", area: "input", address: 0, type: "uint32" },
  { key: "pump", area: "coil", address: 1, type: "bool", writable: true },
  { key: "alarm", area: "discrete", address: 2, type: "bool" },
];

const UNIT = {
  // 21.25 as float32 is 0x41AA0000, CDAB: words swapped
  hr: { "0": 0x0000, "1": 0x41aa, "2": 0xff38, "8": 0x0100, "9": 0, "10": 0, "11": 0, "20": 30, "21": 0b1000 },
  ir: { "0": 1, "1": 2 },
  co: { "1": true },
  di: { "2": true },
};

for (const transport of ["tcp", "rtu"] as const) {
  describe(`modbus-source against pymodbus over ${transport}`, function () {
    let server: PyModbusServer | undefined;
    let pty: PtyPair | undefined;
    let emu: ThingsBoardEmulator | undefined;

    before(function () {
      requirePeer("pymodbus (Debian python3-pymodbus, /usr/bin/python3)", pymodbusAvailable(), this);
      if (transport === "rtu") requirePeer("socat", socatAvailable(), this);
    });

    beforeEach(async () => {
      if (transport === "rtu") pty = await PtyPair.start();
      server = await PyModbusServer.start({ mode: transport, port: transport === "rtu" ? (pty as PtyPair).b : 0, units: { "1": UNIT } });
      emu = await ThingsBoardEmulator.start();
      await new Promise<void>((r) => helper.startServer(() => r()));
    });

    afterEach(async () => {
      await helper.unload();
      await new Promise<void>((r) => helper.stopServer(() => r()));
      await server?.stop();
      await pty?.stop();
      await emu?.stop();
      server = pty = emu = undefined;
    });

    function connection(): ReturnType<typeof connectionNode> {
      const extra = transport === "rtu"
        ? { transport: "rtu", path: (pty as PtyPair).a, baudRate: "38400", host: "", port: "", timeout: "1000" }
        : { timeout: "1000" };
      return connectionNode((server as PyModbusServer).port, extra);
    }

    it("delivers every type and order to the platform in one request per area, and writes read back from the server", async () => {
      await load([
        sourceNode("src", { map: MAP }, [["tel", "out1"], [], ["results"], []]),
        { id: "tel", type: "telemetry-out", gateway: "gw", device: "device", deviceType: "msg", profile: "", profileType: "str", autoConnect: true },
        { id: "out1", type: "helper" },
        { id: "results", type: "helper" },
        connection(),
        gatewayNode((emu as ThingsBoardEmulator).url),
      ]);
      const m = await nextMsg("out1", 10000);
      const expected = { temperature: 21.25, pressure: -2, energy: 1, setpoint: 25, status: true, volts: 65538, pump: true, alarm: true };
      should(m.payload).eql(expected);
      await until(() => (emu as ThingsBoardEmulator).telemetry("Boiler 1").length === 1, 5000, "telemetry at the platform");
      should((emu as ThingsBoardEmulator).telemetry("Boiler 1")[0]).have.properties({ ts: m.ts, values: expected });
      // the planner's requests, as the server counted them: FC1, FC2, FC3 (holding 0..21), FC4
      should(await server?.counts()).eql({ "1:1": 1, "1:2": 1, "1:3": 1, "1:4": 1 });
      should(lastStatus("src").text).equal("modbus-source.status.polling");

      const res = nextMsg("results");
      helper.getNode("src").receive({ payload: { setpoint: 40, pump: false } });
      should((await res).payload).eql({ setpoint: 40, pump: false });
      should(await server?.get(1, "hr", 20, 1)).eql([60]); // (40 - 10) / 0.5
      should(await server?.get(1, "co", 1, 1)).eql([false]);
    });
  });
}
