// modbus-source in a Node-RED runtime: against modbus-serial's in-process ServerTCP, through
// telemetry-out into the ThingsBoard emulator.
import * as fs from "fs";
import * as path from "path";
import should from "should";
import { ThingsBoardEmulator } from "../../emulator/thingsboard";
import { InProcessServer, newStore, type TcpStore } from "../modbus/servers";
import { collect, gatewayNode, helper, load, nextMsg, until, type FlowNode } from "../support/red";
import { callsOf, connectionNode, lastStatus, sourceNode } from "./modbus-support";

const MAP = [
  { key: "temp", area: "holding", address: 0, type: "int16", scale: 0.1 },
  { key: "hum", area: "holding", address: 1, type: "uint16" },
  { key: "power", area: "holding", address: 4, type: "float32", order: "CDAB" },
  { key: "serial", area: "holding", address: 10, type: "string", length: 2, target: "attribute" },
  { key: "volt", area: "input", address: 0, type: "uint16", scale: 0.5, offset: -10 },
  { key: "run", area: "coil", address: 3, type: "bool", writable: true },
  { key: "setpoint", area: "holding", address: 20, type: "int16", scale: 0.1, writable: true },
  { key: "total", area: "holding", address: 22, type: "uint32", writable: true },
];

function connectionCount(server: InProcessServer): () => number {
  let n = 0;
  (server.server as unknown as { _server: { on(e: string, f: () => void): void } })._server.on("connection", () => n++);
  return () => n;
}

describe("modbus-source in a Node-RED runtime (ServerTCP → telemetry-out → ThingsBoard emulator)", function () {
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

  function telemetryOut(): FlowNode {
    return { id: "tel", type: "telemetry-out", gateway: "gw", device: "device", deviceType: "msg", profile: "", profileType: "str", autoConnect: true };
  }

  it("reads the map in the coalesced plan, scales and types the values, and they reach the platform with the poll's ts", async () => {
    store.holding.set(0, 0xff01).set(1, 40).set(4, 0).set(5, 0x3fc0).set(10, 0x4142).set(11, 0x4344).set(20, 555).set(22, 1).set(23, 2);
    store.input.set(0, 230);
    store.coil.set(3, true);
    await load([
      sourceNode("src", { map: MAP }, [["tel", "out1"], ["out2"], [], []]),
      telemetryOut(),
      { id: "out1", type: "helper" },
      { id: "out2", type: "helper" },
      connectionNode(server.port),
      gatewayNode(emu.url),
    ]);
    const tel = nextMsg("out1");
    const attr = nextMsg("out2");
    const before = Date.now();
    const m = await tel;
    should(m).have.properties({ device: "Boiler 1", profile: "Boiler" });
    should(m.payload).eql({ temp: -25.5, hum: 40, power: 1.5, volt: 105, run: true, setpoint: 55.5, total: 65538 });
    should(m.ts).be.a.Number().and.be.within(before - 2000, Date.now());
    const a = await attr;
    should(a).have.properties({ device: "Boiler 1", profile: "Boiler", ts: m.ts });
    should(a.payload).eql({ serial: "ABCD" });
    await until(() => emu.telemetry("Boiler 1").length === 1, 5000, "telemetry at the platform");
    const point = emu.telemetry("Boiler 1")[0];
    should(point.ts).equal(m.ts);
    should(point.values).eql({ temp: -25.5, hum: 40, power: 1.5, volt: 105, run: true, setpoint: 55.5, total: 65538 });
    should(emu.device("Boiler 1")).have.property("profile", "Boiler");
    // one FC3 (holding 0..23, gaps bridged) and one FC4 per poll; the coil is one FC1
    should(store.registerReads.get(1)).equal(2);
    await until(() => lastStatus("src").text === "modbus-source.status.polling", 2000, "polling status");
    should(lastStatus("src")).have.properties({ fill: "green", shape: "dot" });
  });

  it("reports per key and per node strategy: on change with a deadband, every poll otherwise", async () => {
    store.holding.set(0, 100).set(1, 7);
    const map = [
      { key: "level", area: "holding", address: 0, type: "uint16" },
      { key: "count", area: "holding", address: 1, type: "uint16", report: { mode: "every-poll" } },
    ];
    await load([
      sourceNode("src", { map, period: "0.1", reportMode: "on-change", deadband: "5" }, [["out1"], [], [], []]),
      { id: "out1", type: "helper" },
      connectionNode(server.port),
    ]);
    const got = collect("out1");
    await until(() => got.length >= 2, 5000, "two polls");
    should(got[0].payload).eql({ level: 100, count: 7 });
    should(got[1].payload).eql({ count: 7 }); // level unchanged: not reported
    store.holding.set(0, 104); // inside the deadband
    const n = got.length;
    await until(() => got.length >= n + 2, 5000, "two more polls");
    should(got.slice(n).every((g) => !("level" in (g.payload as object)))).be.true();
    store.holding.set(0, 106);
    await until(() => got.some((g) => (g.payload as Record<string, unknown>).level === 106), 5000, "level 106 reported");
  });

  it("shows a dead unit in its status while another modbus-source on the same line keeps its schedule", async () => {
    store.dead.add(2);
    store.holding.set(0, 1);
    const count = connectionCount(server);
    const map = [{ key: "a", area: "holding", address: 0, type: "uint16" }];
    await load([
      sourceNode("live", { map, period: "0.1" }, [["liveOut"], [], [], []]),
      sourceNode("dead", { map, period: "0.1", unitId: "2", device: "Boiler 2" }, [["deadOut"], [], [], []]),
      { id: "liveOut", type: "helper" },
      { id: "deadOut", type: "helper" },
      connectionNode(server.port),
    ]);
    const live = collect("liveOut");
    const dead = collect("deadOut");
    await until(() => lastStatus("dead").text === "modbus-source.status.not-responding", 5000, "dead unit status");
    should(lastStatus("dead")).have.properties({ fill: "red", shape: "ring" });
    const n = live.length;
    await until(() => live.length >= n + 5, 5000, "live unit keeps polling");
    should(dead).be.empty();
    should(lastStatus("live").text).equal("modbus-source.status.polling");
    // backed off for at least 9 times the 300 ms (timeout, no retry) its failed poll held the line
    const warned = callsOf("dead", "warn").map((a) => String(a[0])).find((w) => w.startsWith('modbus-source "Boiler 2": unit 2 not responding; next try in '));
    should(Number(/in (\d+) ms$/.exec(warned ?? "")?.[1])).be.aboveOrEqual(2700);
    should(count()).equal(1); // one line, one connection
  });

  it("turns an exception answer into a readable status and keeps the other keys", async () => {
    store.illegal.add(100);
    store.input.set(0, 9);
    await load([
      sourceNode("src", { map: [{ key: "x", area: "holding", address: 100, type: "uint16" }, { key: "v", area: "input", address: 0, type: "uint16" }] }, [["out1"], [], [], []]),
      { id: "out1", type: "helper" },
      connectionNode(server.port),
    ]);
    const m = await nextMsg("out1");
    should(m.payload).eql({ v: 9 });
    await until(() => lastStatus("src").text === "illegal data address at holding 100", 3000, "exception status");
    should(lastStatus("src")).have.properties({ fill: "yellow", shape: "dot" });
  });

  it("writes {key: value} with scale inverted, answers on output 3, and reads back by rpc get", async () => {
    await load([
      sourceNode("src", { map: MAP }, [[], [], ["results"], []]),
      { id: "results", type: "helper" },
      { id: "complete", type: "complete", scope: ["src"], uncaught: false, wires: [["completed"]] },
      { id: "completed", type: "helper" },
      connectionNode(server.port),
    ]);
    const src = helper.getNode("src");
    let res = nextMsg("results");
    const completed = nextMsg("completed");
    src.receive({ payload: { setpoint: 21.53, run: true, total: 70000 } });
    should((await res).payload).eql({ setpoint: 21.5, run: true, total: 70000 });
    await completed;
    should(store.holding.get(20)).equal(215);
    should([store.holding.get(22), store.holding.get(23)]).eql([1, 70000 - 65536]);
    should(store.coil.get(3)).be.true();

    res = nextMsg("results");
    const rpc = { device: "Boiler 1", id: 7, method: "get", gateway: false };
    src.receive({ device: "Boiler 1", method: "get", payload: { key: "setpoint" }, rpc });
    const got = await res;
    should(got.payload).eql({ setpoint: 21.5 });
    should(got.rpc).eql(rpc); // kept for rpc-response

    res = nextMsg("results");
    src.receive({ device: "Boiler 1", method: "set", payload: { key: "setpoint", value: -3.2 }, rpc: { ...rpc, method: "set" } });
    should((await res).payload).eql({ setpoint: -3.2 });
    should(store.holding.get(20)).equal(0x10000 - 32);
  });

  const refused: Array<[string, Record<string, unknown>, string]> = [
    ["a key that is not writable", { payload: { temp: 20 } }, "modbus-source: cannot write: key temp is not writable"],
    ["an unknown key", { payload: { nope: 1 } }, "modbus-source: cannot write: unknown key nope"],
    ["a value out of range", { payload: { setpoint: 4000 } }, "modbus-source: cannot write: setpoint: 4000 is out of range for int16 after removing scale/offset (-32768..32767)"],
    ["a payload that is not an object", { payload: 5 }, "modbus-source: msg.payload must be an object {\"<key>\": <value>, ...}, got number"],
    ["an rpc method other than set/get", { method: "reboot", payload: {}, rpc: { id: 1, method: "reboot", device: "Boiler 1" } }, "modbus-source: RPC method \"reboot\" is not one modbus-source answers: use set or get"],
  ];
  for (const [what, msg, message] of refused) {
    it(`refuses ${what} with a catchable error and writes nothing`, async () => {
      await load([
        sourceNode("src", { map: MAP }, [[], [], ["results"], []]),
        { id: "results", type: "helper" },
        { id: "catch", type: "catch", scope: ["src"], uncaught: false, wires: [["errors"]] },
        { id: "errors", type: "helper" },
        connectionNode(server.port),
      ]);
      const results = collect("results");
      const err = nextMsg("errors");
      helper.getNode("src").receive(msg);
      const caught = await err;
      should((caught.error as { message: string }).message).equal(message);
      should(store.holding.has(20)).be.false();
      if (msg.rpc) {
        // the platform gets the reason as the RPC's answer
        should(results).have.length(1);
        should(results[0].payload).eql({ error: message });
      } else should(results).be.empty();
    });
  }

  it("leaves msgs for another device alone (an unfiltered rpc-in feeding several sources)", async () => {
    await load([
      sourceNode("src", { map: MAP }, [[], [], ["results"], []]),
      { id: "results", type: "helper" },
      { id: "complete", type: "complete", scope: ["src"], uncaught: false, wires: [["completed"]] },
      { id: "completed", type: "helper" },
      connectionNode(server.port),
    ]);
    const results = collect("results");
    const done = nextMsg("completed");
    helper.getNode("src").receive({ device: "Pump 9", method: "set", payload: { key: "setpoint", value: 1 }, rpc: { id: 1, method: "set", device: "Pump 9" } });
    await done;
    should(results).be.empty();
    should(store.holding.has(20)).be.false();
  });

  it("refuses a bad map at deploy with a message naming the entry, and does not poll", async () => {
    const bad = [MAP[0], { key: "temp2", area: "input", address: 3, type: "float32", writable: true }, { key: "b", area: "coil", address: 1, type: "int16" }];
    await load([
      sourceNode("src", { map: bad }, [["out1"], [], [], []]),
      { id: "out1", type: "helper" },
      { id: "catch", type: "catch", scope: ["src"], uncaught: false, wires: [["errors"]] },
      { id: "errors", type: "helper" },
      connectionNode(server.port),
    ]);
    const errors = callsOf("src", "error").map((a) => String(a[0]));
    should(errors).have.length(1);
    should(errors[0]).equal("modbus-source: invalid register map: entry 2 (temp2): area input is read-only; only coil and holding entries can be writable; entry 3 (b): type int16 needs 1 register, area coil holds bits (use type bool)");
    should(lastStatus("src")).have.properties({ fill: "red", shape: "ring", text: "modbus-source.status.invalid" });
    const err = nextMsg("errors");
    helper.getNode("src").receive({ payload: { temp: 1 } });
    should(((await err).error as { message: string }).message).equal(errors[0]);
    await new Promise((r) => setTimeout(r, 100));
    should(store.registerReads.size).equal(0);
  });

  it("keeps several requests in flight on a TCP connection with inFlight set, one without it (flows made before it)", async () => {
    for (const inFlight of ["4", undefined]) {
      const s2 = newStore();
      s2.delayMs = 40;
      const srv = await InProcessServer.start(s2);
      try {
        const map = [{ key: "a", area: "holding", address: 0, type: "uint16" }];
        const conn = connectionNode(srv.port, inFlight ? { inFlight } : {});
        await load([
          ...[1, 2, 3, 4].map((u) => sourceNode(`s${u}`, { map, period: "0.1", unitId: String(u), device: `D${u}` }, [[`o${u}`], [], [], []])),
          ...[1, 2, 3, 4].map((u) => ({ id: `o${u}`, type: "helper" })),
          conn,
        ]);
        const outs = [1, 2, 3, 4].map((u) => collect(`o${u}`));
        await until(() => outs.every((o) => o.length >= 3), 5000, "three polls of each source");
        should(s2.maxConcurrent).equal(inFlight ? 4 : 1);
      } finally {
        await helper.unload();
        await srv.close();
      }
    }
  });

  it("refuses at deploy a writable string too long for one FC16 (124 registers), naming it", async () => {
    await load([
      sourceNode("src", { map: [MAP[0], { key: "label", area: "holding", address: 100, type: "string", length: 124, writable: true }] }),
      connectionNode(server.port),
    ]);
    should(callsOf("src", "error").map((a) => String(a[0]))).eql([
      "modbus-source: invalid register map: entry 2 (label): is writable but spans 124 registers; one write (FC16) carries at most 123: make it read-only or shorter",
    ]);
    await new Promise((r) => setTimeout(r, 100));
    should(store.registerReads.size).equal(0);
  });

  const badConfigs: Array<[string, Record<string, unknown>, RegExp]> = [
    ["no device name", { device: " " }, /modbus-source: no device name/],
    ["unit id 0", { unitId: "0" }, /unit id must be an integer 1\.\.255 \(0 is broadcast/],
    ["a period report without its period", { reportMode: "period" }, /report period needs a report period in seconds/],
    ["an empty map", { map: [] }, /invalid register map: register map is empty/],
    ["a map that is not JSON", { map: "[{" }, /register map must be an array of entries/],
    ["no connection", { connection: "" }, /modbus-source.errors.no-connection/],
  ];
  for (const [what, extra, re] of badConfigs) {
    it(`refuses ${what} at deploy`, async () => {
      await load([sourceNode("src", { map: MAP, ...extra }), connectionNode(server.port)]);
      const errors = callsOf("src", "error").map((a) => String(a[0]));
      should(errors).have.length(1);
      should(errors[0]).match(re);
    });
  }

  it("keeps the line for the other source when one modbus-source is redeployed or removed, and closes it with the last", async () => {
    store.holding.set(0, 1);
    const count = connectionCount(server);
    const map = [{ key: "a", area: "holding", address: 0, type: "uint16" }];
    const flow = (second: boolean, period = "0.1"): FlowNode[] => [
      { id: "flow", type: "tab", label: "t" },
      { ...sourceNode("one", { map, period: "0.1" }, [["oneOut"], [], [], []]), z: "flow", x: 1, y: 1 },
      ...(second ? [{ ...sourceNode("two", { map, period, unitId: "2", device: "Boiler 2" }, [[], [], [], []]), z: "flow", x: 1, y: 2 }] : []),
      { id: "oneOut", type: "helper", z: "flow", x: 1, y: 3 },
      connectionNode(server.port),
    ];
    await load(flow(true));
    const setFlows = (f: FlowNode[]): Promise<void> => new Promise((resolve, reject) =>
      (helper as unknown as { setFlows(f: FlowNode[], t: string, c: object, cb: (e?: Error) => void): void }).setFlows(f, "nodes", {}, (e?: Error) => (e ? reject(e) : resolve())));
    await until(() => (store.registerReads.get(2) ?? 0) > 0 && (store.registerReads.get(1) ?? 0) > 0, 5000, "both polling");
    await setFlows(flow(true, "0.2")); // "two" changed: only it restarts
    await until(() => lastStatus("two").text === "modbus-source.status.polling", 5000, "two polling again");
    const got = collect("oneOut");
    await until(() => got.length >= 3, 5000, "one keeps polling");
    await setFlows(flow(false)); // "two" removed
    const n = got.length;
    await until(() => got.length >= n + 3, 5000, "one keeps polling after two was removed");
    should(count()).equal(1);
    const socks = (server.server as unknown as { socks: Map<unknown, unknown> }).socks;
    should(socks.size).equal(1);
    await setFlows([{ id: "flow", type: "tab", label: "t" }, connectionNode(server.port)]); // the last user removed
    await until(() => socks.size === 0, 5000, "the line closed");
  });

  it("disconnects the device on the platform after N failed polls and connects it again on the next good one", async () => {
    store.holding.set(0, 5);
    await load([
      sourceNode("src", { map: [{ key: "a", area: "holding", address: 0, type: "uint16" }], period: "0.1", disconnectAfter: "2" }, [["tel"], [], [], ["dc", "state"]]),
      { id: "dc", type: "device-connect", gateway: "gw", device: "device", deviceType: "msg", profile: "profile", profileType: "msg", action: "connect" },
      { id: "state", type: "helper" },
      telemetryOut(),
      connectionNode(server.port),
      gatewayNode(emu.url),
    ]);
    const states = collect("state");
    await until(() => emu.telemetry("Boiler 1").length > 0 && emu.device("Boiler 1")?.connected, 5000, "device connected with data");
    store.dead.add(1);
    await until(() => states.length === 1, 8000, "disconnect msg");
    should(states[0]).have.properties({ device: "Boiler 1", action: "disconnect", profile: "Boiler" });
    await until(() => emu.device("Boiler 1")?.connected === false, 5000, "device disconnected on the platform");
    store.dead.delete(1);
    await until(() => states.length === 2, 8000, "connect msg");
    should(states[1]).have.properties({ device: "Boiler 1", action: "connect", profile: "Boiler" });
    await until(() => emu.device("Boiler 1")?.connected === true, 5000, "device connected again");
  });

  it("has an English text for every message key it uses", () => {
    const dir = [path.resolve(__dirname, "../../../nodes/locales/en-US"), path.resolve(process.cwd(), "nodes/locales/en-US")].find((d) => fs.existsSync(d)) as string;
    const cat = JSON.parse(fs.readFileSync(path.join(dir, "modbus-source.json"), "utf8"))["modbus-source"];
    should(cat.status["not-responding"]).equal("unit __unit__ not responding");
    should(cat.status.polling).equal("polling __period__");
    for (const k of ["connecting", "disconnected", "closed", "invalid"]) should(cat.status[k]).be.a.String();
    should(cat.errors["no-connection"]).be.a.String();
  });
});
