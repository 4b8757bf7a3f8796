// Issue 7 item 9 for modbus-source: a frozen msg (Object.freeze) must work, end in done() or
// done(err) exactly once, and never become an unhandled rejection. The input msg is never
// mutated: the answers on output 3 are new msgs carrying the input's properties.
import should from "should";
import { InProcessServer, newStore, type TcpStore } from "../modbus/servers";
import { collect, helper, load, until } from "../support/red";
import { connectionNode, sourceNode } from "./modbus-support";

const MAP = [
  { key: "setpoint", area: "holding", address: 20, type: "int16", scale: 0.1, writable: true },
  { key: "hum", area: "holding", address: 1, type: "uint16" },
];

describe("modbus-source with frozen msgs", function () {
  let store: TcpStore;
  let server: InProcessServer;
  const rejections: unknown[] = [];
  const onRejection = (r: unknown): void => { rejections.push(r); };

  beforeEach(async () => {
    store = newStore();
    server = await InProcessServer.start(store);
    process.on("unhandledRejection", onRejection);
    await new Promise<void>((r) => helper.startServer(() => r()));
  });

  afterEach(async () => {
    process.removeListener("unhandledRejection", onRejection);
    rejections.length = 0;
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
    await server.close();
  });

  it("writes, reads and refuses frozen msgs, each ending exactly once, never touching the input", async () => {
    store.holding.set(1, 55);
    await load([
      sourceNode("src", { map: MAP }, [[], [], ["results"], []]),
      { id: "results", type: "helper" },
      { id: "complete", type: "complete", scope: ["src"], uncaught: false, wires: [["completed"]] },
      { id: "completed", type: "helper" },
      { id: "catch", type: "catch", scope: ["src"], uncaught: false, wires: [["caught"]] },
      { id: "caught", type: "helper" },
      connectionNode(server.port),
    ]);
    const src = helper.getNode("src");
    const results = collect("results");
    const completed = collect("completed");
    const caught = collect("caught");
    const rpc = { device: "Boiler 1", id: 7, method: "get", gateway: false };
    const msgs = [
      Object.freeze({ _msgid: "w", payload: Object.freeze({ setpoint: 21.5 }) }),
      Object.freeze({ _msgid: "g", device: "Boiler 1", method: "get", payload: { key: "hum" }, rpc: Object.freeze(rpc) }),
      Object.freeze({ _msgid: "bad", payload: { nothere: 1 } }),
      Object.freeze({ _msgid: "badrpc", device: "Boiler 1", method: "set", payload: { key: "hum", value: 3 }, rpc: { ...rpc, method: "set" } }),
      Object.freeze({ _msgid: "nomethod", device: "Boiler 1", method: "reboot", payload: {}, rpc: { ...rpc, method: "reboot" } }),
    ];
    for (const m of msgs) src.receive(m as never);
    await until(() => completed.length + caught.length >= 5, 5000, "every msg to end");
    await new Promise((r) => setTimeout(r, 200)); // a second done() would show up here
    should(completed.map((m) => m._msgid).sort()).eql(["g", "w"]);
    should(caught.map((m) => m._msgid).sort()).eql(["bad", "badrpc", "nomethod"]);
    should(store.holding.get(20)).equal(215);
    const byId = new Map(results.map((m) => [m._msgid, m]));
    should(byId.get("w")?.payload).eql({ setpoint: 21.5 });
    should(byId.get("g")?.payload).eql({ hum: 55 });
    should(byId.get("g")?.rpc).eql(rpc);
    should((byId.get("badrpc")?.payload as { error: string }).error).match(/not writable/);
    should((byId.get("nomethod")?.payload as { error: string }).error).match(/use set or get/);
    should(msgs[0].payload).eql({ setpoint: 21.5 });
    should(msgs[1].payload).eql({ key: "hum" });
    should(rejections).eql([]);
  });
});
