// Per Modbus line figures in the gateway's statistics (telemetry of the gateway device, and
// gateway_stats): requests, errors and timeouts of each modbus-connection, against modbus-serial's
// ServerTCP with a unit that does not answer (a timeout) and an address it refuses (an exception).
import should from "should";
import { ThingsBoardEmulator } from "../../emulator/thingsboard";
import type { GatewayConfigNode } from "../../nodes/common/gateway-types";
import { InProcessServer, newStore, type TcpStore } from "../modbus/servers";
import { gatewayNode, helper, load, until } from "../support/red";
import { connectionNode, lastStatus, sourceNode } from "./modbus-support";

const KEY = (f: string): string => `modbus.boiler line.${f}`;

describe("gateway device: per Modbus line statistics (ServerTCP → ThingsBoard emulator)", function () {
  this.timeout(40000);
  let emu: ThingsBoardEmulator;
  let store: TcpStore;
  let server: InProcessServer;

  beforeEach(async () => {
    emu = await ThingsBoardEmulator.start();
    store = newStore();
    server = await InProcessServer.start(store);
    await new Promise<void>((r) => helper.startServer(() => r()));
  });

  afterEach(async () => {
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
    await server.close();
    await emu.stop();
  });

  it("counts each line's requests, errors and timeouts, named after the modbus-connection, in the report and in gateway_stats", async () => {
    store.holding.set(0, 42);
    store.illegal.add(100);
    store.dead.add(2);
    const map = [{ key: "a", area: "holding", address: 0, type: "uint16" }];
    await load([
      sourceNode("live", { map }, [["tel"], [], [], []]),
      sourceNode("dead", { map, unitId: "2", device: "Boiler 2" }, [["tel"], [], [], []]),
      sourceNode("refused", { map: [{ key: "x", area: "holding", address: 100, type: "uint16" }], unitId: "3", device: "Boiler 3" }, [["tel"], [], [], []]),
      { id: "tel", type: "telemetry-out", gateway: "gw", device: "device", deviceType: "msg", profile: "", profileType: "str", autoConnect: true },
      connectionNode(server.port, { name: "boiler line" }),
      gatewayNode(emu.url, { statsPeriod: "10" }),
    ]);
    const gw = helper.getNode("gw") as unknown as GatewayConfigNode;
    // One poll each (the period is an hour): unit 2 times out (300 ms, no retry), unit 3 is refused.
    await until(() => lastStatus("dead").text === "modbus-source.status.not-responding", 5000, "unit 2 not responding");
    await until(() => lastStatus("refused").text === "illegal data address at holding 100", 5000, "the exception of unit 3");
    emu.telemetry("Boiler 1").map((p) => p.values).should.eql([{ a: 42 }]);

    const served = [...store.registerReads.values()].reduce((a, b) => a + b, 0); // answered by the server, refusals too
    const figures = gw.figures()!;
    figures.should.containEql({ [KEY("requests")]: served + 1, [KEY("errors")]: 2, [KEY("timeouts")]: 1 });
    (figures[KEY("requests")] as number).should.equal(3);

    // The statistics telemetry of the gateway device carries the same figures (its first period covers them all).
    const report = await emu.waitFor(() => emu.telemetry("Gateway")[0], 15000);
    report.values.should.containEql({ [KEY("requests")]: 3, [KEY("errors")]: 2, [KEY("timeouts")]: 1 });
    const rpc = ((await emu.callGatewayRpc("gateway_stats")) as { resp: Record<string, unknown> }).resp;
    rpc.should.containEql({ [KEY("requests")]: 3, [KEY("errors")]: 2, [KEY("timeouts")]: 1 });
    should(Object.keys(rpc).filter((k) => k.startsWith("modbus.")).sort()).eql([KEY("errors"), KEY("requests"), KEY("timeouts")]);
  });
});
