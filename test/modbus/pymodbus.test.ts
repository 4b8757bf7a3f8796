// The engine against an independent implementation: Debian's pymodbus 3.0.0rc1 server, over
// Modbus TCP, RTU over TCP, and RTU / ASCII on a socat pseudo-terminal pair.
import should from "should";
import { ModbusError } from "../../lib/modbus/errors";
import { ModbusLine } from "../../lib/modbus/line";
import { UnitPoller } from "../../lib/modbus/poller";
import { UnitWriter } from "../../lib/modbus/writer";
import type { DataType, LineOptions, LineState, MapEntry, Order, PollResult, Transport, UnitState, Value } from "../../lib/modbus/types";
import { requirePeer } from "../support/peers";
import { PtyPair, PyModbusServer, eventMatching, pymodbusAvailable, socatAvailable, until, type PyUnitSpec } from "./servers";
import { be, wire } from "./wire";

const ORDERS: Order[] = ["ABCD", "BADC", "CDAB", "DCBA"];
const SAMPLES: Array<[DataType, number | bigint, Value]> = [
  ["int16", -1234, -1234],
  ["uint16", 65000, 65000],
  ["int32", -70000, -70000],
  ["uint32", 4000000000, 4000000000],
  ["float32", -2.5, -2.5],
  ["int64", -(2n ** 40n) - 3n, Number(-(2n ** 40n) - 3n)],
  ["uint64", 2n ** 63n + 5n, (2n ** 63n + 5n).toString()],
  ["float64", Math.PI, Math.PI],
];

/** A map with every type in every order, the registers a server must hold for it, and the values to expect. */
function everyType(): { map: MapEntry[]; spec: PyUnitSpec; expected: Record<string, Value> } {
  const map: MapEntry[] = [];
  const hr: Record<string, number> = {};
  const expected: Record<string, Value> = {};
  let addr = 0;
  const put = (regs: number[]): void => regs.forEach((w) => { hr[String(addr++)] = w; });
  for (const order of ORDERS) {
    for (const [type, raw, value] of SAMPLES) {
      const key = `${type}_${order}`;
      map.push({ key, area: "holding", address: addr, type, order });
      expected[key] = value;
      put(wire(be(type, raw), order));
    }
  }
  map.push({ key: "str_ABCD", area: "holding", address: addr, type: "string", length: 3 });
  expected.str_ABCD = "Hi!";
  put([0x4869, 0x2100, 0]);
  map.push({ key: "str_BADC", area: "holding", address: addr, type: "string", length: 3, order: "BADC" });
  expected.str_BADC = "Hi!";
  put([0x6948, 0x0021, 0]);
  map.push({ key: "bit5", area: "holding", address: addr, type: "bit", bit: 5 }, { key: "bit4", area: "holding", address: addr, type: "bit", bit: 4 });
  Object.assign(expected, { bit5: true, bit4: false });
  put([0x0020]);
  map.push({ key: "in_temp", area: "input", address: 3, type: "int16", scale: 0.1, round: 1 });
  expected.in_temp = -4.2;
  map.push(
    { key: "c0", area: "coil", address: 0, type: "bool" },
    { key: "c5", area: "coil", address: 5, type: "bool" },
    { key: "c100", area: "coil", address: 100, type: "bool" },
    { key: "d0", area: "discrete", address: 0, type: "bool" },
    { key: "d1", area: "discrete", address: 1, type: "bool" },
  );
  Object.assign(expected, { c0: true, c5: false, c100: true, d0: true, d1: false });
  return { map, expected, spec: { hr, ir: { "3": 0xffd6 }, co: { "0": true, "100": true }, di: { "0": true } } };
}

const WRITE_MAP: MapEntry[] = [
  { key: "sp", area: "holding", address: 0, type: "int16", scale: 0.1, offset: 10, writable: true },
  { key: "limit", area: "holding", address: 1, type: "uint16", writable: true },
  { key: "energy", area: "holding", address: 4, type: "float64", order: "DCBA", writable: true },
  { key: "count", area: "holding", address: 8, type: "uint64", writable: true },
  { key: "name", area: "holding", address: 12, type: "string", length: 4, writable: true },
  { key: "pump", area: "coil", address: 0, type: "bool", writable: true },
  { key: "fan", area: "coil", address: 1, type: "bool", writable: true },
  { key: "hole", area: "holding", address: 200, type: "uint16", writable: true },
];

for (const transport of ["tcp", "rtu-over-tcp", "rtu", "ascii"] as Transport[]) {
  const serial = transport === "rtu" || transport === "ascii";

  describe(`modbus engine against pymodbus over ${transport}`, function () {
    let server: PyModbusServer | undefined;
    let pty: PtyPair | undefined;
    let line: ModbusLine | undefined;
    const pollers: UnitPoller[] = [];
    const data = everyType();
    const units = { "1": data.spec, "2": { holes: { hr: [[200, 200]] as Array<[number, number]> } } };

    before(async function () {
      requirePeer("pymodbus (Debian python3-pymodbus, /usr/bin/python3)", pymodbusAvailable(), this);
      if (serial) {
        requirePeer("socat", socatAvailable(), this);
        pty = await PtyPair.start();
      }
      server = await PyModbusServer.start({ mode: transport, port: serial ? (pty as PtyPair).b : 0, units });
    });

    after(async () => {
      await server?.stop();
      await pty?.stop();
    });

    afterEach(async () => {
      for (const p of pollers.splice(0)) await p.stop();
      await line?.close();
      line = undefined;
    });

    function lineOptions(extra: Partial<LineOptions> = {}): LineOptions {
      const where = serial ? { path: (pty as PtyPair).a, baudRate: 9600 } : { host: "127.0.0.1", port: server?.port };
      return { transport, ...where, timeoutMs: 400, retries: 0, ...extra };
    }

    it("decodes every type in every order, reading one request per area (two for coils 95 apart)", async () => {
      line = new ModbusLine(lineOptions());
      const p = new UnitPoller(line, { unitId: 1, map: data.map, periodMs: 1000 });
      pollers.push(p);
      await server?.command("reset");
      const r = await p.pollNow();
      should(r.errors).eql({});
      should(r.values).eql(data.expected);
      should(await server?.counts()).eql({ "1:1": 2, "1:2": 1, "1:3": 1, "1:4": 1 });
      should(data.map).have.length(42); // 42 keys, 5 requests
    });

    it("keeps polling unit 1 while unit 7 does not answer, and says so", async () => {
      line = new ModbusLine(lineOptions({ timeoutMs: 200 }));
      const small: MapEntry[] = [{ key: "x", area: "holding", address: 0, type: "int16" }, { key: "y", area: "holding", address: 300, type: "int16" }];
      const live = new UnitPoller(line, { unitId: 1, map: small, periodMs: 100 });
      const dead = new UnitPoller(line, { unitId: 7, map: small, periodMs: 100, backoff: { initialMs: 300, maxMs: 1000 } });
      pollers.push(live, dead);
      const values: PollResult[] = [];
      live.on("values", (v: PollResult) => values.push(v));
      const deadStates: UnitState[] = [];
      dead.on("state", (s: UnitState) => deadStates.push(s));
      const failures: ModbusError[] = [];
      dead.on("poll-error", (e: ModbusError) => failures.push(e));
      live.start();
      dead.start();
      await until(() => dead.stats.failedPolls >= 3, 10000, "three failed polls of unit 7");
      should(deadStates[0]).containEql({ unitId: 7, status: "not-responding" });
      should(deadStates[0].message).startWith("unit 7 not responding");
      should(failures[0].kind).equal("timeout");
      should(dead.stats.requests).equal(dead.stats.polls); // gave up each cycle at the first timeout
      should(live.stats.failedPolls).equal(0);
      should(values.length).be.above(dead.stats.polls * 2); // unit 7 backed off (300, 600 ms), unit 1 kept its 100 ms
      should(values.every((v) => v.values.x === data.expected.int16_ABCD)).be.true();
    });

    it("writes every kind of value and the server holds exactly the encoded registers", async () => {
      line = new ModbusLine(lineOptions());
      const w = new UnitWriter(line, 2, WRITE_MAP);
      const ops = await w.write({ sp: 31.5, limit: 1200, energy: 12345.678, count: "18446744073709551615", name: "pump-7", pump: true, fan: false });
      should(ops.map((o) => `${o.fc}:${o.keys.join("+")}`)).eql(["15:pump+fan", "16:sp+limit", "16:energy+count+name"]);
      should(await server?.get(2, "hr", 0, 2)).eql([215, 1200]); // (31.5 - 10) / 0.1
      should(await server?.get(2, "hr", 4, 4)).eql(wire(be("float64", 12345.678), "DCBA"));
      should(await server?.get(2, "hr", 8, 4)).eql([0xffff, 0xffff, 0xffff, 0xffff]);
      should(await server?.get(2, "hr", 12, 4)).eql([0x7075, 0x6d70, 0x2d37, 0]);
      should(await server?.get(2, "co", 0, 2)).eql([true, false]);
      should(await w.get("sp")).equal(31.5);
      should(await w.get("energy")).equal(12345.678);
      should(await w.get("count")).equal("18446744073709551615");
      should(await w.get("name")).equal("pump-7");
      should(await w.get("pump")).equal(true);
      await w.write({ limit: 3, fan: true });
      should(await server?.get(2, "hr", 1, 1)).eql([3]);
      should(await server?.get(2, "co", 1, 1)).eql([true]);
      await should(w.write({ hole: 1 })).be.rejectedWith({ kind: "exception", message: "illegal data address at holding 200 (unit 2, write)" });
      await should(w.write({ sp: 5000 })).be.rejectedWith(/sp: 5000 is out of range for int16 after removing scale\/offset/);
    });

    it("reports an exception answer for the one request that hit a hole", async () => {
      line = new ModbusLine(lineOptions());
      const map: MapEntry[] = [
        { key: "a", area: "holding", address: 199, type: "uint16" },
        { key: "b", area: "holding", address: 201, type: "uint16" },
        { key: "i", area: "input", address: 0, type: "uint16" },
      ];
      const p = new UnitPoller(line, { unitId: 2, map, periodMs: 1000 });
      pollers.push(p);
      const r = await p.pollNow();
      should(r.errors).eql({ a: "illegal data address at holding 199..201 (unit 2, read)", b: "illegal data address at holding 199..201 (unit 2, read)" });
      should(r.values).eql({ i: 0 });
      const around = new UnitPoller(line, { unitId: 2, map, periodMs: 1000, plan: { forbidden: [{ area: "holding", start: 200, end: 200 }] } });
      pollers.push(around);
      should((await around.pollNow()).errors).eql({});
    });
  });
}

describe("modbus engine against pymodbus: restarts and bad maps", function () {
  let server: PyModbusServer | undefined;
  let line: ModbusLine | undefined;
  let poller: UnitPoller | undefined;

  before(function () {
    requirePeer("pymodbus (Debian python3-pymodbus, /usr/bin/python3)", pymodbusAvailable(), this);
  });

  afterEach(async () => {
    await poller?.stop();
    await line?.close();
    await server?.stop();
    poller = line = server = undefined;
  });

  it("reconnects when the server process is killed and restarted, and polling resumes", async () => {
    server = await PyModbusServer.start({ mode: "tcp", port: 0, units: { "1": { hr: { "0": 11 } } } });
    const port = server.port;
    line = new ModbusLine({ transport: "tcp", host: "127.0.0.1", port, timeoutMs: 300, retries: 0, reconnect: { initialMs: 100, maxMs: 500 } });
    const states: LineState[] = [];
    line.on("state", (s: LineState) => states.push(s));
    poller = new UnitPoller(line, { unitId: 1, map: [{ key: "a", area: "holding", address: 0, type: "uint16" }], periodMs: 100, backoff: { initialMs: 100, maxMs: 200 } });
    poller.start();
    await eventMatching<PollResult>(poller, "values", (r) => r.values.a === 11, 5000);
    await server.stop();
    await eventMatching<LineState>(line, "state", (s) => s.status === "disconnected", 5000);
    server = await PyModbusServer.start({ mode: "tcp", port, units: { "1": { hr: { "0": 12 } } } });
    await eventMatching<PollResult>(poller, "values", (r) => r.values.a === 12, 10000);
    should(states.map((s) => s.status)).containDeepOrdered(["connecting", "connected", "disconnected", "connected"]);
    should(line.stats.reconnects).be.above(0);
  });

  it("refuses a bad map before touching the line, naming every bad entry", () => {
    line = new ModbusLine({ transport: "tcp", host: "127.0.0.1", port: 1 });
    let err: unknown;
    try {
      new UnitPoller(line, {
        unitId: 1,
        periodMs: 1000,
        map: [
          { key: "temp", area: "coil", address: 3, type: "float32" },
          { key: "s", area: "holding", address: 0, type: "string" },
          { key: "ok", area: "holding", address: 5, type: "uint16" },
        ],
      });
    } catch (e) {
      err = e;
    }
    should(err).be.instanceOf(ModbusError);
    should((err as ModbusError).kind).equal("config");
    should((err as Error).message).equal(
      "unit 1: invalid register map: entry 1 (temp): type float32 needs 2 registers, area coil holds bits (use type bool); " +
        "entry 2 (s): type string needs length 1..125 (registers, 2 characters each), got undefined"
    );
    should(line.state.status).equal("idle");
  });
});
