// A hostile unit on a shared Modbus TCP connection (issue 9, item 2): whatever garbage one
// unit sends, the line resynchronises (a connection whose stream is out of step is dropped and
// reopened) and the two healthy units on it keep >= 90 % of their polls, every value right.
// Also: every reply is checked against its request (item 1), here on TCP.
import should from "should";
import { ModbusLine } from "../../lib/modbus/line";
import { UnitPoller } from "../../lib/modbus/poller";
import type { MapEntry, PollResult } from "../../lib/modbus/types";
import { HostileTcpServer, correct, mbap, replyPdu, valueAt, type Behaviour, type TcpRequest } from "./hostile";
import { until } from "./servers";

/** Seeded bytes, so a failure reproduces. */
function noise(seed: number, n: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

const ok = (r: TcpRequest): Buffer => correct(r)[0].bytes;
const now = (bytes: Buffer) => [{ afterMs: 0, bytes }];

/** 15 ways to answer wrongly. */
const MODES: Record<string, Behaviour> = {
  "a truncated frame": (r) => now(ok(r).subarray(0, 9)),
  "random bytes": (r) => now(noise(r.tid + 1, 40)),
  "MBAP length 0": (r) => now(mbap(r.tid, r.unitId, replyPdu(r), 0)),
  "MBAP length 1 (no PDU)": (r) => now(mbap(r.tid, r.unitId, Buffer.alloc(0))),
  "bytes trickling in slower than the timeout": (r) => [...ok(r)].map((byte, i) => ({ afterMs: 40 * i, bytes: Buffer.from([byte]) })),
  "an oversize length": (r) => now(Buffer.concat([mbap(r.tid, r.unitId, replyPdu(r), 2000), noise(r.tid, 20)])),
  "a wrong protocol id": (r) => now(mbap(r.tid, r.unitId, replyPdu(r), undefined, 7)),
  "an unknown transaction id": (r) => now(mbap((r.tid + 1000) & 0xffff, r.unitId, replyPdu(r))),
  "another unit's id": (r) => now(mbap(r.tid, 1, replyPdu({ ...r, unitId: 1 }))),
  "another function code": (r) => now(mbap(r.tid, r.unitId, replyPdu({ ...r, fc: 4 }))),
  "a byte count larger than asked": (r) => now(mbap(r.tid, r.unitId, replyPdu({ ...r, count: r.count + 2 }))),
  "a byte count smaller than asked": (r) => now(mbap(r.tid, r.unitId, Buffer.from([r.fc, 0]))),
  "every reply twice": (r) => now(Buffer.concat([ok(r), ok(r)])),
  "junk before a right reply": (r) => now(Buffer.concat([noise(r.tid + 7, 3), ok(r)])),
  "junk after a right reply": (r) => now(Buffer.concat([ok(r), noise(r.tid + 9, 5)])),
};

const MAP: MapEntry[] = [
  { key: "a", area: "holding", address: 0, type: "uint16" },
  { key: "b", area: "holding", address: 5, type: "uint16" },
];

interface Tally { good: number; wrong: string[] }

function watch(p: UnitPoller): Tally {
  const t: Tally = { good: 0, wrong: [] };
  p.on("values", (r: PollResult) => {
    if (r.values.a !== valueAt(p.unitId, 0)) t.wrong.push(`a=${String(r.values.a)}`);
    if (r.values.b !== valueAt(p.unitId, 5)) t.wrong.push(`b=${String(r.values.b)}`);
    if (Object.keys(r.errors).length === 0) t.good++;
  });
  p.on("poll-error", () => undefined);
  return t;
}

describe("modbus over a shared TCP connection with a hostile unit", function () {
  this.timeout(20000);
  for (const [mode, behaviour] of Object.entries(MODES)) {
    it(`keeps two healthy units at >= 90 % of their polls, every value right, when unit 9 answers with ${mode}`, async () => {
      const server = await HostileTcpServer.start({ 9: behaviour });
      const line = new ModbusLine({ transport: "tcp", host: "127.0.0.1", port: server.port, timeoutMs: 100, reconnect: { initialMs: 50, maxMs: 500 } });
      const healthy = [1, 2].map((unitId) => new UnitPoller(line, { unitId, map: MAP, periodMs: 50 }));
      const hostile = new UnitPoller(line, { unitId: 9, map: MAP, periodMs: 50 });
      hostile.on("poll-error", () => undefined);
      const tallies = healthy.map(watch);
      const ticks = (p: UnitPoller): number => p.stats.polls + p.stats.skipped;
      try {
        for (const p of [...healthy, hostile]) p.start();
        await until(() => server.served.get(9) !== undefined, 5000, "unit 9 to be asked");
        // 5 s: unit 9 is probed about three times (backoff 1 s, 2 s, ...), each costing the line up to one timeout
        await until(() => healthy.every((p) => ticks(p) >= 100), 15000, "100 polls of each healthy unit");
        for (const p of [...healthy, hostile]) await p.stop();
        healthy.forEach((p, i) => {
          should(tallies[i].wrong).eql([], `unit ${p.unitId} read wrong values`);
          const share = tallies[i].good / ticks(p);
          should(share).be.aboveOrEqual(0.9, `unit ${p.unitId}: ${tallies[i].good} good polls of ${ticks(p)} (${p.stats.skipped} skipped)`);
        });
        // the line is in step at the end: a direct read of each healthy unit is right
        for (const u of [1, 2]) should(await line.readRegisters(u, "holding", 0, 1)).eql([valueAt(u, 0)]);
      } finally {
        for (const p of [...healthy, hostile]) await p.stop();
        await line.close();
        await server.close();
      }
    });
  }
});

describe("modbus replies checked against their request", function () {
  let server: HostileTcpServer | undefined;
  let line: ModbusLine | undefined;
  afterEach(async () => {
    await line?.close();
    await server?.close();
    line = server = undefined;
  });

  async function against(b: Behaviour): Promise<ModbusLine> {
    server = await HostileTcpServer.start({ 1: b });
    line = new ModbusLine({ transport: "tcp", host: "127.0.0.1", port: server.port, timeoutMs: 300, retries: 0 });
    return line;
  }

  it("refuses an FC1 reply whose byte count is larger than the bits asked for, instead of decoding the extra bytes", async () => {
    const l = await against((r) => now(mbap(r.tid, r.unitId, Buffer.from([1, 3, 0xff, 0xff, 0xff]))));
    const err = await l.readBits(1, "coil", 0, 8).then(() => undefined, (e: Error) => e);
    should(err).be.instanceOf(Error);
    should((err as Error & { kind: string }).kind).equal("transport");
    should((err as Error).message).match(/byte count 3, expected 1/);
  });

  it("refuses an FC3 reply with fewer registers than asked", async () => {
    const l = await against((r) => now(mbap(r.tid, r.unitId, Buffer.from([3, 2, 0, 7]))));
    const err = await l.readRegisters(1, "holding", 0, 2).then(() => undefined, (e: Error) => e);
    should((err as Error).message).match(/byte count 2, expected 4/);
  });

  it("refuses a write reply that echoes another address", async () => {
    const l = await against((r) => now(mbap(r.tid, r.unitId, Buffer.from([6, 0, 9, 0, 1]))));
    const err = await l.writeRegister(1, 3, 1).then(() => undefined, (e: Error) => e);
    should((err as Error).message).match(/echoes address 9/);
  });

  it("takes the right reply and drops the late one of a request that timed out, by transaction id", async () => {
    let n = 0;
    const l = await against((r) => [{ afterMs: n++ === 0 ? 500 : 0, bytes: ok(r) }]);
    should(await l.readRegisters(1, "holding", 0, 1).catch((e: Error) => e.message)).match(/not responding/);
    const out: number[] = [];
    for (let a = 1; a <= 6; a++) {
      out.push((await l.readRegisters(1, "holding", a, 1))[0]);
      await new Promise((r) => setTimeout(r, 50));
    }
    should(out).eql([1, 2, 3, 4, 5, 6].map((a) => valueAt(1, a)));
    should(l.stats.reconnects).equal(0);
  });
});
