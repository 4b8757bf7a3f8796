// The engine against modbus-serial's own ServerTCP, in-process.
import should from "should";
import { ModbusError } from "../../lib/modbus/errors";
import { ModbusLine } from "../../lib/modbus/line";
import { UnitPoller } from "../../lib/modbus/poller";
import { UnitWriter } from "../../lib/modbus/writer";
import type { LineState, MapEntry, PollResult, UnitState } from "../../lib/modbus/types";
import { InProcessServer, eventMatching, newStore, until, type TcpStore } from "./servers";

const MAP: MapEntry[] = [
  { key: "temp", area: "holding", address: 0, type: "int16", scale: 0.1 },
  { key: "hum", area: "holding", address: 1, type: "uint16" },
  { key: "power", area: "holding", address: 4, type: "float32" },
  { key: "serial", area: "holding", address: 10, type: "string", length: 2, target: "attribute" },
  { key: "volt", area: "input", address: 0, type: "uint16" },
  { key: "run", area: "coil", address: 3, type: "bool" },
  { key: "door", area: "discrete", address: 0, type: "bool" },
];

describe("modbus engine against modbus-serial ServerTCP", function () {
  let store: TcpStore;
  let server: InProcessServer | undefined;
  let line: ModbusLine | undefined;
  const pollers: UnitPoller[] = [];

  beforeEach(async () => {
    store = newStore();
    server = await InProcessServer.start(store);
  });

  afterEach(async () => {
    for (const p of pollers.splice(0)) await p.stop();
    await line?.close();
    line = undefined;
    await server?.close();
    server = undefined;
  });

  function newLine(extra: Partial<ConstructorParameters<typeof ModbusLine>[0]> = {}): ModbusLine {
    line = new ModbusLine({ transport: "tcp", host: "127.0.0.1", port: server?.port, timeoutMs: 300, retries: 0, ...extra });
    return line;
  }

  function newPoller(l: ModbusLine, unitId: number, map: MapEntry[], periodMs: number, extra = {}): UnitPoller {
    const p = new UnitPoller(l, { unitId, map, periodMs, ...extra });
    pollers.push(p);
    return p;
  }

  it("polls every area in one request per area and decodes the values", async () => {
    store.holding.set(0, 215).set(1, 40).set(4, 0x3fc0).set(5, 0).set(10, 0x4142).set(11, 0x4344);
    store.input.set(0, 230);
    store.coil.set(3, true);
    store.discrete.set(0, true);
    const p = newPoller(newLine(), 1, MAP, 1000);
    should(p.plan.requests.map((r) => `${r.area}@${r.address}x${r.count}`)).eql(["coil@3x1", "discrete@0x1", "holding@0x12", "input@0x1"]);
    const r = await p.pollNow();
    should(r.errors).eql({});
    should(r.values).eql({ temp: 21.5, hum: 40, power: 1.5, serial: "ABCD", volt: 230, run: true, door: true });
    should(r.report.attributes).eql({ serial: "ABCD" });
    should(Object.keys(r.report.telemetry).sort()).eql(["door", "hum", "power", "run", "temp", "volt"]);
    should(store.registerReads.get(1)).equal(2); // one FC3 + one FC4
  });

  it("turns an exception answer into a readable error and keeps the other values", async () => {
    store.illegal.add(100);
    store.holding.set(98, 7).set(102, 9);
    store.input.set(0, 1);
    const map: MapEntry[] = [
      { key: "a", area: "holding", address: 98, type: "uint16" },
      { key: "b", area: "holding", address: 102, type: "uint16" },
      { key: "v", area: "input", address: 0, type: "uint16" },
    ];
    const l = newLine();
    const bad = newPoller(l, 1, map, 1000);
    const errors: ModbusError[] = [];
    bad.on("poll-error", (e: ModbusError) => errors.push(e));
    const r = await bad.pollNow();
    should(r.errors).eql({ a: "illegal data address at holding 98..102 (unit 1, read)", b: "illegal data address at holding 98..102 (unit 1, read)" });
    should(r.values).eql({ v: 1 });
    should(errors).have.length(1);
    should(bad.state).containEql({ status: "failing", failedPolls: 1 });
    // the same map with the register marked forbidden reads around it
    const good = newPoller(l, 1, map, 1000, { plan: { forbidden: [{ area: "holding", start: 100, end: 100 }] } });
    const ok = await good.pollNow();
    should(ok.errors).eql({});
    should(ok.values).eql({ a: 7, b: 9, v: 1 });
  });

  it("keeps polling a live unit on schedule while a dead unit on the same line times out and backs off", async () => {
    store.dead.add(9);
    store.holding.set(0, 1);
    const l = newLine({ timeoutMs: 150, retries: 0 });
    const map: MapEntry[] = [
      { key: "a", area: "holding", address: 0, type: "uint16" },
      { key: "far", area: "holding", address: 500, type: "uint16" },
    ];
    const live = newPoller(l, 1, map, 100);
    const dead = newPoller(l, 9, map, 100, { backoff: { initialMs: 300, maxMs: 1000 } });
    const liveValues: PollResult[] = [];
    const deadStates: UnitState[] = [];
    live.on("values", (r: PollResult) => liveValues.push(r));
    dead.on("state", (s: UnitState) => deadStates.push(s));
    live.start();
    dead.start();
    await until(() => dead.stats.failedPolls >= 3, 10000, "three failed polls of unit 9");
    should(deadStates.length).be.above(0);
    should(deadStates[0].status).equal("not-responding");
    should(deadStates[0].message).startWith("unit 9 not responding");
    // the dead unit gave up its cycle at the first timeout: only its first request was ever sent
    should(dead.stats.failedPolls).be.above(1);
    should(dead.stats.requests).equal(dead.stats.polls);
    // it backed off (300, 600 ms) instead of polling every 100 ms like unit 1
    should(live.stats.failedPolls).equal(0);
    should(liveValues.length).be.above(dead.stats.polls * 2);
    should(liveValues.every((r) => r.values.a === 1)).be.true();
  });

  it("writes with FC5/FC15/FC6/FC16 and reads the values back", async () => {
    const map: MapEntry[] = [
      { key: "sp", area: "holding", address: 0, type: "int16", scale: 0.1, writable: true },
      { key: "limit", area: "holding", address: 1, type: "uint16", writable: true },
      { key: "total", area: "holding", address: 10, type: "float32", order: "CDAB", writable: true },
      { key: "pump", area: "coil", address: 0, type: "bool", writable: true },
      { key: "fan", area: "coil", address: 1, type: "bool", writable: true },
      { key: "valve", area: "coil", address: 5, type: "bool", writable: true },
      { key: "ro", area: "holding", address: 20, type: "uint16" },
    ];
    const l = newLine();
    const w = new UnitWriter(l, 1, map);
    const ops = await w.write({ sp: -12.5, limit: 7, total: 1.5, pump: true, fan: true, valve: true });
    should(ops.map((o) => `${o.fc}:${o.keys.join("+")}`)).eql(["15:pump+fan", "5:valve", "16:sp+limit", "16:total"]);
    should(store.holding.get(0)).equal(0xff83); // -125
    should(store.holding.get(1)).equal(7);
    should([store.holding.get(10), store.holding.get(11)]).eql([0, 0x3fc0]);
    should([store.coil.get(0), store.coil.get(1), store.coil.get(5)]).eql([true, true, true]);
    should(await w.get("sp")).equal(-12.5);
    should(await w.get("total")).equal(1.5);
    should(await w.get("pump")).equal(true);
    should((await w.write({ limit: 8 })).map((o) => o.fc)).eql([6]);
    should(store.holding.get(1)).equal(8);
    await should(w.write({ ro: 1 })).be.rejectedWith(/key ro is not writable/);
    await should(w.write({ limit: 70000, nope: 1 })).be.rejectedWith("cannot write: limit: 70000 is out of range for uint16 (0..65535); unknown key nope");
    should(store.holding.get(1)).equal(8); // nothing was written
  });

  it("reconnects after the server restarts and polling resumes", async () => {
    store.holding.set(0, 5);
    const l = newLine({ reconnect: { initialMs: 100, maxMs: 400 } });
    const states: LineState[] = [];
    l.on("state", (s: LineState) => states.push(s));
    const p = newPoller(l, 1, [{ key: "a", area: "holding", address: 0, type: "uint16" }], 100);
    p.start();
    await eventMatching<PollResult>(p, "values", (r) => r.values.a === 5, 3000);
    const port = server?.port as number;
    await server?.close();
    server = undefined;
    await eventMatching<LineState>(l, "state", (s) => s.status === "disconnected", 3000);
    store.holding.set(0, 6);
    server = await InProcessServer.start(store, port);
    await eventMatching<PollResult>(p, "values", (r) => r.values.a === 6, 5000);
    should(states.map((s) => s.status)).containDeepOrdered(["connecting", "connected", "disconnected", "connecting", "connected"]);
    should(l.stats.reconnects).be.above(0);
  });

  it("bounds its queue and rejects the overflow with a clear error", async () => {
    store.dead.add(9);
    const l = newLine({ queueLimit: 2, timeoutMs: 200 });
    await l.readRegisters(1, "holding", 0, 1); // connected, so the first of the five goes in flight at once
    const results = await Promise.allSettled([0, 1, 2, 3, 4].map(() => l.readRegisters(9, "holding", 0, 1)));
    const reasons = results.map((r) => (r.status === "rejected" ? (r.reason as ModbusError).kind : "ok"));
    // one in flight plus two queued time out; the other two did not fit
    should(reasons.filter((k) => k === "queue-full")).have.length(2);
    should(reasons.filter((k) => k === "timeout")).have.length(3);
    const full = results.find((r) => r.status === "rejected" && (r.reason as ModbusError).kind === "queue-full") as PromiseRejectedResult;
    should((full.reason as Error).message).match(/queue of tcp 127\.0\.0\.1:\d+ is full \(2 requests waiting\)/);
    should(l.queueLength).equal(0);
  });

  it("closes cleanly: pending requests fail with 'closed', later ones too, no more state changes", async () => {
    store.dead.add(9);
    const l = newLine({ timeoutMs: 300 });
    await l.readRegisters(1, "holding", 0, 1);
    const inFlight = l.readRegisters(9, "holding", 0, 1);
    const queued = l.readRegisters(9, "holding", 0, 1);
    const closing = l.close();
    await should(queued).be.rejectedWith({ kind: "closed" });
    await closing;
    await should(inFlight).be.rejected();
    await should(l.readRegisters(1, "holding", 0, 1)).be.rejectedWith({ kind: "closed" });
    const after: LineState[] = [];
    l.on("state", (s: LineState) => after.push(s));
    await new Promise((r) => setTimeout(r, 200));
    should(after).eql([]);
    should(l.listenerCount("state")).equal(1);
  });

  it("reports a refused connection, retries with backoff, and stops on close", async () => {
    const port = server?.port as number;
    await server?.close();
    server = undefined;
    const l = newLine({ port, reconnect: { initialMs: 50, maxMs: 100 } });
    const states: LineState[] = [];
    l.on("state", (s: LineState) => states.push(s));
    await should(l.readRegisters(1, "holding", 0, 1)).be.rejectedWith(/not connected to tcp 127\.0\.0\.1:\d+: cannot connect to .*ECONNREFUSED/);
    await eventMatching<LineState>(l, "state", (s) => s.status === "connecting", 2000);
    await l.close();
    const n = states.length;
    await new Promise((r) => setTimeout(r, 300));
    should(states.length).equal(n + 0);
    should(states[states.length - 1].status).equal("closed");
  });
});

describe("modbus line without answers", function () {
  it("drops and reopens the connection after dropAfterTimeouts silent requests in a row", async () => {
    const store = newStore();
    store.dead.add(1);
    const server = await InProcessServer.start(store);
    const line = new ModbusLine({ transport: "tcp", host: "127.0.0.1", port: server.port, timeoutMs: 100, retries: 0, dropAfterTimeouts: 2, reconnect: { initialMs: 50, maxMs: 50 } });
    try {
      const states: LineState[] = [];
      line.on("state", (s: LineState) => states.push(s));
      await should(line.readRegisters(1, "holding", 0, 1)).be.rejectedWith({ kind: "timeout" });
      await should(line.readRegisters(1, "holding", 0, 1)).be.rejectedWith({ kind: "timeout" });
      should(states[states.length - 1]).containEql({ status: "disconnected", reason: "no answer to 2 requests in a row" });
      store.dead.delete(1);
      store.holding.set(0, 3);
      await eventMatching<LineState>(line, "state", (s) => s.status === "connected", 2000);
      should(await line.readRegisters(1, "holding", 0, 1)).eql([3]);
      should(line.stats.reconnects).equal(1);
    } finally {
      await line.close();
      await server.close();
    }
  });
});
