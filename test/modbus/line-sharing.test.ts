// How a line is shared (issue 9, items 3 to 5): a dead unit on a serial line backs off and is
// probed without retries so the live unit keeps >= 90 % of its rate; writes are held to the
// protocol's FC16/FC15 limits; Modbus TCP keeps an opt-in window of requests in flight.
import should from "should";
import { ModbusLine } from "../../lib/modbus/line";
import { UnitPoller } from "../../lib/modbus/poller";
import { validateMap } from "../../lib/modbus/register-map";
import type { MapEntry, PollResult } from "../../lib/modbus/types";
import { UnitWriter } from "../../lib/modbus/writer";
import { requirePeer } from "../support/peers";
import { InProcessServer, PtyPair, PyModbusServer, newStore, pymodbusAvailable, socatAvailable, until } from "./servers";

const ONE: MapEntry[] = [{ key: "x", area: "holding", address: 0, type: "uint16" }];

describe("modbus serial line with a dead unit beside a live one (pymodbus RTU on a socat pty)", function () {
  this.timeout(30000);
  let pty: PtyPair | undefined;
  let server: PyModbusServer | undefined;

  before(async function () {
    requirePeer("pymodbus (Debian python3-pymodbus, /usr/bin/python3)", pymodbusAvailable(), this);
    requirePeer("socat", socatAvailable(), this);
    pty = await PtyPair.start();
    server = await PyModbusServer.start({ mode: "rtu", port: pty.b, units: { "1": { hr: { "0": 4242 } } } });
  });

  after(async () => {
    await server?.stop();
    await pty?.stop();
  });

  it("keeps >= 90 % of the live unit's 20 polls/s from the dead unit's first failure on, probing it once per backoff step without retries", async () => {
    const line = new ModbusLine({ transport: "rtu", path: (pty as PtyPair).a, baudRate: 9600, timeoutMs: 300, retries: 1 });
    const live = new UnitPoller(line, { unitId: 1, map: ONE, periodMs: 50 });
    const dead = new UnitPoller(line, { unitId: 7, map: ONE, periodMs: 50 });
    let good = 0;
    let wrong = 0;
    live.on("values", (r: PollResult) => {
      if (Object.keys(r.errors).length === 0) good++;
      if (r.values.x !== 4242) wrong++;
    });
    live.on("poll-error", () => undefined);
    const ticks = (): number => live.stats.polls + live.stats.skipped;
    let at: { ticks: number; good: number; requests: number; liveRequests: number } | undefined;
    dead.on("poll-error", () => {
      at = at ?? { ticks: ticks(), good, requests: line.stats.requests, liveRequests: live.stats.requests };
    });
    try {
      live.start();
      dead.start();
      await until(() => at !== undefined, 10000, "unit 7 to fail");
      const from = at as NonNullable<typeof at>;
      const probes0 = dead.stats.polls;
      // a window of at least 10 s with at least one probe of the dead unit in it
      await until(() => ticks() - from.ticks >= 200 && dead.stats.polls > probes0, 30000, "200 more polls of unit 1 (10 s) and a probe of unit 7");
      await live.stop();
      await dead.stop();
      const due = ticks() - from.ticks;
      const share = (good - from.good) / due;
      const probes = dead.stats.polls - probes0;
      console.log(`      live unit: ${good - from.good} good polls of ${due} due (${(share * 100).toFixed(1)} %), dead unit probed ${probes} times`);
      should(wrong).equal(0);
      const what = `${good - from.good} good polls of ${due}, ${probes} probes, line ${JSON.stringify(line.stats)}`;
      should(share).be.aboveOrEqual(0.9, what);
      should(probes).be.within(1, 3, what);
      // one request per probe, no retry: every other request in the window went to unit 1
      should(Math.abs(line.stats.requests - from.requests - (live.stats.requests - from.liveRequests) - probes)).be.belowOrEqual(1, what);
    } finally {
      await live.stop();
      await dead.stop();
      await line.close();
    }
  });
});

describe("modbus write limits (FC16 <= 123 registers, FC15 <= 1968 coils)", function () {
  let server: InProcessServer | undefined;
  let line: ModbusLine | undefined;
  const store = newStore();
  afterEach(async () => {
    await line?.close();
    await server?.close();
    line = server = undefined;
  });

  it("refuses a writable string of 124 or 125 registers in the map, naming the entry", () => {
    for (const length of [124, 125]) {
      const v = validateMap([{ key: "ok", area: "holding", address: 0, type: "uint16" }, { key: "label", area: "holding", address: 10, type: "string", length, writable: true }]);
      should(v.errors).eql([`entry 2 (label): is writable but spans ${length} registers; one write (FC16) carries at most 123: make it read-only or shorter`]);
    }
    should(validateMap([{ key: "label", area: "holding", address: 10, type: "string", length: 124 }]).errors).eql([]);
    should(() => new UnitWriter({} as ModbusLine, 1, [{ key: "label", area: "holding", address: 10, type: "string", length: 124, writable: true }])).throw(/label.*at most 123/);
  });

  it("writes a string of 123 registers in one FC16, and refuses 124 registers or 1969 coils before anything goes on the wire", async () => {
    server = await InProcessServer.start(store);
    line = new ModbusLine({ transport: "tcp", host: "127.0.0.1", port: server.port, timeoutMs: 500 });
    const w = new UnitWriter(line, 1, [{ key: "label", area: "holding", address: 0, type: "string", length: 123, writable: true }]);
    const text = "x".repeat(246);
    const ops = await w.write({ label: text });
    should(ops.map((o) => [o.fc, o.values.length])).eql([[16, 123]]);
    should(await w.get("label")).equal(text);
    const before = line.stats.requests;
    const big = await line.writeRegisters(1, 0, new Array(124).fill(1)).then(() => undefined, (e: Error & { kind?: string }) => e);
    should(big?.kind).equal("range");
    should(big?.message).match(/124 registers in one request; the protocol allows 1\.\.123/);
    const coils = await line.writeCoils(1, 0, new Array(1969).fill(true)).then(() => undefined, (e: Error & { kind?: string }) => e);
    should(coils?.message).match(/1969 bits in one request; the protocol allows 1\.\.1968/);
    should(line.stats.requests - before).equal(2); // counted, never written: the server is still in step
    should(await line.readRegisters(1, "holding", 0, 1)).eql([0x7878]);
  });
});

describe("modbus TCP in-flight window", function () {
  let server: InProcessServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function pollAll(inFlight: number | undefined): Promise<{ maxConcurrent: number; values: Record<number, number> }> {
    const store = newStore();
    store.delayMs = 30;
    for (let u = 1; u <= 8; u++) store.holding.set(u, 100 + u); // unit u reads address u
    server = await InProcessServer.start(store);
    const line = new ModbusLine({ transport: "tcp", host: "127.0.0.1", port: server.port, timeoutMs: 1000, inFlight });
    try {
      const values: Record<number, number> = {};
      await Promise.all(Array.from({ length: 8 }, (_, i) => i + 1).map(async (u) => {
        const p = new UnitPoller(line, { unitId: u, map: [{ key: "x", area: "holding", address: u, type: "uint16" }], periodMs: 1000 });
        const r = await p.pollNow();
        values[u] = r.values.x as number;
      }));
      return { maxConcurrent: store.maxConcurrent, values };
    } finally {
      await line.close();
      await server.close();
      server = undefined;
    }
  }

  it("keeps one request in flight by default", async () => {
    const r = await pollAll(undefined);
    should(r.maxConcurrent).equal(1);
    should(r.values).eql({ 1: 101, 2: 102, 3: 103, 4: 104, 5: 105, 6: 106, 7: 107, 8: 108 });
  });

  it("keeps up to inFlight requests on the wire against a server that answers concurrently, every reply matched to its request", async () => {
    const r = await pollAll(8);
    should(r.maxConcurrent).equal(8);
    should(r.values).eql({ 1: 101, 2: 102, 3: 103, 4: 104, 5: 105, 6: 106, 7: 107, 8: 108 });
  });

  it("refuses an in-flight window above 1 on a serial line or RTU over TCP", () => {
    should(() => new ModbusLine({ transport: "rtu", path: "/dev/null", inFlight: 2 })).throw(/inFlight above 1 needs Modbus TCP/);
    should(() => new ModbusLine({ transport: "rtu-over-tcp", host: "x", inFlight: 4 })).throw(/inFlight above 1 needs Modbus TCP/);
  });
});
