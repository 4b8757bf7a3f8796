// The disk store on real files: what a restart, a torn write, a flipped bit, a full cap, an
// old backlog, an unusable folder and a second process do to it.
import { fork } from "child_process";
import crypto from "crypto";
import fs from "fs";
import os from "os";
import path from "path";
import "should";
import zlib from "zlib";
import { dialectFor } from "../../lib/dialect";
import { thingsboard } from "../../lib/dialect/thingsboard";
import { Outbox, type Transport } from "../../lib/outbox/outbox";
import { OutboxMonitor } from "../../lib/outbox/stats";
import { MemoryStore } from "../../lib/outbox/store/memory";
import { crc32, crc32Js } from "../../lib/outbox/store/crc32";
import { DiskStore, type DiskStoreOptions } from "../../lib/outbox/store/disk";
import { StoreError } from "../../lib/outbox/store/errors";
import { MAGIC, RecordType, writeData } from "../../lib/outbox/store/record";
import { listSegments, segmentPath } from "../../lib/outbox/store/segment-file";
import type { Entry } from "../../lib/outbox/types";
import type { Uplink } from "../../lib/records";

const tel = (device: string, n: number): Uplink => ({ kind: "telemetry", device, points: [{ ts: 1700000000000 + n, values: { n, text: "é" } }] });
const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

/** An entry whose settling the test can see. */
function entry(u: Uplink): Entry & { result: Promise<string>; state: () => string } {
  let state = "waiting";
  let settle!: (v: string) => void;
  const result = new Promise<string>((r) => (settle = r));
  return {
    uplink: u,
    resolve: () => {
      state = state === "waiting" ? "done" : `twice (${state}, done)`;
      settle(state);
    },
    reject: (err: Error) => {
      state = state === "waiting" ? `error: ${err.message}` : `twice (${state}, error)`;
      settle(state);
    },
    result,
    state: () => state,
  };
}

type Prepares = { prepare(u: Uplink): NonNullable<Entry["prepared"]> } | undefined;

/**
 * Pushes every uplink once per dialect, prepared by it (undefined: not prepared; an uplink the
 * dialect refuses is stored without), waits until all are stored, and closes the store.
 */
async function storeEach(s: DiskStore, uplinks: Uplink[], dialects: Prepares[]): Promise<Array<ReturnType<typeof entry>>> {
  const es: Array<ReturnType<typeof entry>> = [];
  for (const d of dialects) {
    for (const u of uplinks) {
      const e = entry(u);
      if (d) {
        try {
          e.prepared = d.prepare(u);
        } catch {
          /* not an uplink of that dialect: stored without */
        }
      }
      es.push(e);
      s.push(e).should.be.true();
    }
  }
  await Promise.all(es.map((e) => e.result));
  await s.close();
  return es;
}

/** An uplink as it serialises (and as a dialect that serialises it sees it). */
function plain(u: Uplink): Uplink {
  return JSON.parse(JSON.stringify(u)) as Uplink;
}

function nOf(e: Entry): number {
  return (e.uplink as unknown as { points: Array<{ values: { n: number } }> }).points[0].values.n;
}

describe("DiskStore", function () {
  let root: string;
  const open: DiskStore[] = [];

  async function store(opts: Partial<DiskStoreOptions> = {}, dir = path.join(root, "gw")): Promise<DiskStore> {
    const s = new DiskStore({ dir, commitDelayMs: 1, ...opts });
    open.push(s);
    await s.open();
    return s;
  }

  async function closeAll(): Promise<void> {
    for (const s of open.splice(0)) {
      s.clear();
      await s.close();
    }
  }

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "disk-store-"));
  });

  afterEach(async () => {
    await closeAll();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it("computes the same CRC-32 natively and in JavaScript (Node 18 has no zlib.crc32)", () => {
    const b = Buffer.from("the quick brown fox jumps over the lazy dog ✓");
    crc32Js(b).should.equal(crc32(b));
    crc32Js(b, 3, 20).should.equal(crc32(b, 3, 20));
    crc32Js(Buffer.from("123456789")).should.equal(0xcbf43926); // the standard check value
    // Short ranges are summed in JavaScript, long ones natively: both agree with zlib's at every length and offset.
    const native = (zlib as unknown as { crc32?: (d: Uint8Array) => number }).crc32;
    const r = crypto.randomBytes(3000);
    for (let len = 0; len < 1100; len += 1 + (len >> 4)) {
      for (const start of [0, 1, 5, 8]) {
        const want = native ? native(r.subarray(start, start + len)) >>> 0 : crc32Js(r, start, start + len);
        crc32Js(r, start, start + len).should.equal(want);
        crc32(r, start, start + len).should.equal(want);
      }
    }
  });

  it("calls done once a record is on disk and gives back every entry, in order, after a reopen", async () => {
    const s = await store();
    const es = Array.from({ length: 500 }, (_, i) => entry(tel(`D${i % 7}`, i)));
    for (const e of es) s.push(e).should.be.true();
    es[0].state().should.equal("waiting"); // not before the fsync
    (await Promise.all(es.map((e) => e.result))).should.eql(es.map(() => "done"));
    s.bytes.should.be.above(500 * 40);
    await s.close();
    const again = await store();
    again.size.should.equal(500);
    again.stats().recovered.should.equal(500);
    const back = again.take(1000);
    back.map(nOf).should.eql(es.map((_, i) => i));
    back[3].uplink.should.eql(tel("D3", 3));
    back.forEach((e) => (() => e.resolve()).should.not.throw()); // a dead process's msgs: nothing to end
  });

  it("gives back after a reopen each uplink as JSON would, whichever dialect prepared it (or none)", async () => {
    class Stamp {
      toJSON(): string {
        return "stamped";
      }
    }
    const uplinks: Uplink[] = [
      tel("Dé \"1\"", 1),
      { kind: "telemetry", device: "D2", points: [{ values: { a: 1 } }, { ts: 5, values: { b: [1, { c: null }], s: "x\u2028y" } }] },
      { kind: "telemetry", device: "D3", points: [{ ts: 7, values: { t: new Stamp() as unknown as string } }] },
      { kind: "telemetry", device: "D4", points: [{ ts: 1.5e21, values: { big: 1e300, neg: -0.5 } }] },
      { kind: "attributes", device: "D5", values: { mode: "auto", n: 2, o: { p: true } } },
      { kind: "attributes", device: "D6", values: new Stamp() as unknown as Record<string, string> },
      { kind: "rpcResponse", device: "D7", id: 3, data: { ok: true } },
      { kind: "gatewayTelemetry", points: [{ ts: 9, values: { cpu: 3 } }] },
    ];
    const dialects = [undefined, thingsboard, dialectFor("watson", { org: "o", typeId: "t", deviceId: "i" }), dialectFor("thingspanel", { deviceNumber: "n" })];
    const es = await storeEach(await store(), uplinks, dialects);
    const again = await store();
    again.take(1000).map((e) => e.uplink).should.eql(es.map((e) => JSON.parse(JSON.stringify(e.uplink)) as Uplink));
  });

  for (const written of ["without", "with"] as const) {
    it(`with the dialect's telemetry form, gives back telemetry already prepared as the dialect prepares it, so it is not serialised again (written ${written} that form)`, async () => {
      const uplinks: Uplink[] = [
        tel("Dé \"1\"", 1),
        { kind: "telemetry", device: "D2", points: [{ values: { a: 1 } }, { ts: 5, values: { b: [1, { c: null }], s: "x\u2028y", 7: "k" } }] },
        { kind: "telemetry", device: "D3", points: [{ ts: 1.5e21, values: { big: 1e300, neg: -0.5 } }, { ts: -0, values: { z: 0 } }] },
        { kind: "attributes", device: "D4", values: { mode: "auto" } },
        { kind: "telemetry", device: "D5", points: [{ ts: 1700000000123, values: { s: 'a,b"c\\', arr: [1, 2, { x: "}," }], o: { p: 1, q: [","] }, n: null, 9: 9 } }] },
        { kind: "telemetry", device: "D6", points: [{ ts: 0, values: { one: 1 } }] },
        { kind: "telemetry", device: "D7", points: [{ ts: 1700000000124, values: {} }] },
        { kind: "telemetry", device: "D8", points: [{ values: { no: "ts" } }] },
      ];
      // Written with the form, the store takes the pieces of its own dialect as they are (a store's
      // entries are prepared by its gateway's dialect); written without, whatever prepared them.
      const dialects = written === "with" ? [undefined, thingsboard] : [undefined, thingsboard, dialectFor("watson", { org: "o", typeId: "t", deviceId: "i" })];
      const es = await storeEach(await store(written === "with" ? { telemetryPieces: thingsboard.telemetryPieces } : {}), uplinks, dialects);
      const again = await store({ telemetryPieces: thingsboard.telemetryPieces });
      const back = again.take(1000);
      back.length.should.equal(es.length);
      // Telemetry read back in that form parses its points only when they are read (the drain never
      // reads them): it is compared as what it serialises to, and its points as read.
      back.map((e) => plain(e.uplink)).should.eql(es.map((e) => plain(e.uplink)));
      for (const e of back) {
        if (e.uplink.kind === "telemetry") e.uplink.points.should.eql((plain(e.uplink) as { points: unknown }).points);
        if (e.uplink.kind !== "telemetry") {
          (e.prepared === undefined).should.be.true();
          continue;
        }
        const p = e.prepared!;
        (p !== undefined).should.be.true();
        const fresh = thingsboard.prepare(e.uplink);
        p.json.map((j) => JSON.parse(j) as unknown).should.eql(fresh.json.map((j) => JSON.parse(j) as unknown));
        p.bytes.should.eql(fresh.bytes);
        p.points!.should.eql(fresh.points);
        p.total!.should.equal(fresh.total ?? fresh.points!.reduce((a, b) => a + b, 0));
      }
      // What goes on the wire, rate costs included, is what preparing each one again would send.
      const sent = thingsboard.encode(back.map((e) => e.uplink), 65536, 0, { prepared: back.map((e) => e.prepared) });
      const fresh = thingsboard.encode(back.map((e) => e.uplink), 65536, 0);
      sent.publishes.map((x) => ({ topic: x.topic, body: JSON.parse(x.payload.toString()) as unknown, bytes: x.payload.length, carries: x.carries, cost: x.cost })).should.eql(
        fresh.publishes.map((x) => ({ topic: x.topic, body: JSON.parse(x.payload.toString()) as unknown, bytes: x.payload.length, carries: x.carries, cost: x.cost })),
      );
    });
  }

  it("written in the dialect's telemetry form, gives back plain telemetry (points parsed, nothing prepared) to a store of another platform's dialect", async () => {
    const uplinks: Uplink[] = [
      tel("D1", 1),
      { kind: "telemetry", device: "D2", points: [{ values: { ts: 4, a: 1 } }, { ts: 5, values: { b: [1, { c: null }] } }] },
    ];
    const es = await storeEach(await store({ telemetryPieces: thingsboard.telemetryPieces }), uplinks, [thingsboard]);
    // The gateway-config now talks to another platform: its dialect has no such form.
    const again = await store();
    const back = again.take(10);
    back.map((e) => e.uplink).should.eql(es.map((e) => plain(e.uplink)));
    back.forEach((e) => (e.prepared === undefined).should.be.true());
  });

  it("reads back the records of the previous version (every uplink as its JSON)", async () => {
    const dir = path.join(root, "v1");
    fs.mkdirSync(dir, { recursive: true });
    const old = [tel("Old", 1), { kind: "attributes", device: "Old", values: { a: "é" } } as Uplink, tel("Old", 2)];
    const buf = Buffer.alloc(4096);
    MAGIC.copy(buf, 0);
    let off = MAGIC.length;
    old.forEach((u, i) => {
      const json = JSON.stringify(u);
      off = writeData(buf, off, RecordType.Data, i + 1, Date.now(), { max: json.length * 3, write: (b, at) => at + b.write(json, at, "utf8") });
    });
    fs.writeFileSync(segmentPath(dir, 1), buf.subarray(0, off));
    const s = await store({ telemetryPieces: "ts-values" }, dir);
    s.take(10).map((e) => e.uplink).should.eql(old);
  });

  it("reads back the telemetry frames of the previous version (the dialect's pieces without their data point counts)", async () => {
    const dir = path.join(root, "v2");
    fs.mkdirSync(dir, { recursive: true });
    const points = [{ ts: 1700000000001, values: { a: 1, b: "é" } }, { values: { ts: 3, c: [1, 2] } }];
    const pieces = points.map((p) => JSON.stringify(p.ts === undefined ? p.values : p));
    // u8 FRAME (1) | u8 3 | u16 device bytes | device | u32 points | per point: u8 timed, u32 bytes, piece
    const body = Buffer.concat([
      Buffer.from([1, 3, 3, 0]),
      Buffer.from("Old"),
      Buffer.from([2, 0, 0, 0]),
      ...points.flatMap((p, i) => {
        const b = Buffer.from(pieces[i]);
        const n = Buffer.alloc(5);
        n[0] = p.ts === undefined ? 0 : 1;
        n.writeUInt32LE(b.length, 1);
        return [n, b];
      }),
    ]);
    const buf = Buffer.alloc(4096);
    MAGIC.copy(buf, 0);
    const off = writeData(buf, MAGIC.length, RecordType.Data, 1, Date.now(), { max: body.length, write: (b, at) => at + body.copy(b, at) });
    fs.writeFileSync(segmentPath(dir, 1), buf.subarray(0, off));
    const s = await store({ telemetryPieces: "ts-values" }, dir);
    const [e] = s.take(10);
    plain(e.uplink).should.eql({ kind: "telemetry", device: "Old", points });
    e.prepared!.points!.should.eql([2, 2]);
    e.prepared!.json.should.eql(pieces);
  });

  it("forgets what the server acknowledged, deletes finished segments, and keeps the rest waiting", async () => {
    const s = await store({ segmentBytes: 4096 });
    const es = Array.from({ length: 300 }, (_, i) => entry(tel("A", i)));
    for (const e of es) s.push(e);
    await Promise.all(es.map((e) => e.result));
    const segmentsBefore = listSegments(s.dir).length;
    segmentsBefore.should.be.above(3);
    const taken = s.take(200);
    taken.slice(0, 150).forEach((e) => e.resolve());
    taken[170].reject(new Error("refused by the server")); // refused: needs no delivery either
    s.unshift(taken.slice(150).filter((_, i) => i !== 20)); // the connection dropped under the rest
    await tick(20);
    listSegments(s.dir).length.should.be.below(segmentsBefore);
    await s.close();
    const again = await store({ segmentBytes: 4096 });
    again.take(1000).map(nOf).should.eql(Array.from({ length: 150 }, (_, i) => i + 150).filter((n) => n !== 170));
  });

  it("forgets exactly what was acknowledged when acknowledgements come out of order, in runs and alone", async () => {
    const s = await store({ segmentBytes: 4096 });
    const es = Array.from({ length: 400 }, (_, i) => entry(tel("A", i)));
    for (const e of es) s.push(e);
    await Promise.all(es.map((e) => e.result));
    const taken = s.take(400);
    // Runs (a batch each), a run acknowledged before an older one, single ones in between, a gap.
    const acked = new Set<number>();
    const ack = (from: number, to: number): void => {
      for (let i = from; i < to; i++) {
        taken[i].resolve();
        acked.add(i);
      }
    };
    ack(100, 200);
    ack(0, 50);
    ack(300, 301);
    ack(60, 61);
    ack(250, 300);
    ack(50, 55);
    await tick(20);
    ack(201, 203);
    s.unshift(taken.filter((_, i) => !acked.has(i)));
    await s.close();
    const again = await store({ segmentBytes: 4096 });
    again.take(1000).map(nOf).should.eql(Array.from({ length: 400 }, (_, i) => i).filter((i) => !acked.has(i)));
  });

  it("keeps only the newest entries in memory during a long outage and reads the rest back from disk, in order", async () => {
    const s = await store({ memoryEntries: 100, segmentBytes: 16384 });
    const es = Array.from({ length: 3000 }, (_, i) => entry(tel(`D${i % 10}`, i)));
    for (const e of es) s.push(e);
    await Promise.all(es.map((e) => e.result));
    const out: number[] = [];
    for (let batch = s.take(250); batch.length > 0; batch = s.take(250)) {
      out.push(...batch.map(nOf));
      batch.forEach((e) => e.resolve());
    }
    out.should.eql(es.map((_, i) => i));
    s.size.should.equal(0);
    await tick(20);
    s.bytes.should.equal(0);
    listSegments(s.dir).length.should.equal(1); // only the active one is left
  });

  it("recovers from a torn tail at a random byte: a prefix of the records, each intact, and a warning", async () => {
    for (const seed of [7, 101, 4242, 90001]) {
      const dir = path.join(root, `torn-${seed}`);
      const s = await store({ segmentBytes: 1 << 20 }, dir);
      const es = Array.from({ length: 200 }, (_, i) => entry(tel("T", i)));
      for (const e of es) s.push(e);
      await Promise.all(es.map((e) => e.result));
      await s.close();
      const file = segmentPath(dir, listSegments(dir).pop()!);
      const size = fs.statSync(file).size;
      const cut = 8 + ((seed * 2654435761) % (size - 8));
      fs.truncateSync(file, cut);
      const warnings: string[] = [];
      const again = new DiskStore({ dir, commitDelayMs: 1 });
      open.push(again);
      again.on("warning", (m: string) => warnings.push(m));
      await again.open();
      again.status.should.equal("open");
      const back = again.take(1000).map(nOf);
      back.should.eql(Array.from({ length: back.length }, (_, i) => i)); // a prefix, nothing wrong
      back.length.should.be.within(Math.floor(((cut - 8) / (size - 8)) * 200) - 2, 200);
      if (back.length < 200) warnings.join("\n").should.match(/cut off/);
      // the cut is repaired: the next open has nothing to warn about
      again.clear();
      await again.close();
      const third = new DiskStore({ dir, commitDelayMs: 1 });
      open.push(third);
      const later: string[] = [];
      third.on("warning", (m: string) => later.push(m));
      await third.open();
      later.should.eql([]);
      third.size.should.equal(back.length);
    }
  });

  it("skips a record whose checksum fails in the middle of a segment and keeps every other one", async () => {
    const s = await store();
    const es = Array.from({ length: 100 }, (_, i) => entry(tel("C", i)));
    for (const e of es) s.push(e);
    await Promise.all(es.map((e) => e.result));
    await s.close();
    const file = segmentPath(s.dir, listSegments(s.dir)[0]);
    const bytes = fs.readFileSync(file);
    const at = bytes.indexOf(Buffer.from('"n":50,'));
    at.should.be.above(0);
    bytes[at + 4] = "7".charCodeAt(0); // 50 → 70: a valid JSON, a wrong value: only the CRC can tell
    fs.writeFileSync(file, bytes);
    const warnings: string[] = [];
    const again = new DiskStore({ dir: s.dir, commitDelayMs: 1 });
    open.push(again);
    again.on("warning", (m: string) => warnings.push(m));
    await again.open();
    again.take(1000).map(nOf).should.eql(Array.from({ length: 100 }, (_, i) => i).filter((n) => n !== 50));
    warnings.join("\n").should.match(/corrupt bytes at offset \d+ skipped/);
  });

  it("refuses new msgs at the byte cap with policy reject, with a catchable error", async () => {
    const s = await store({ maxBytes: 20000, policy: "reject" });
    const es = Array.from({ length: 800 }, (_, i) => entry(tel("R", i)));
    const accepted = es.map((e) => s.push(e));
    const results = await Promise.all(es.map((e) => e.result));
    const refused = results.filter((r) => r.startsWith("error"));
    refused.length.should.be.above(100);
    refused[0].should.match(/the store is full: .* wait for the connection \(cap 19\.5 KiB\); this msg was not accepted/);
    accepted.filter((a) => !a).length.should.equal(refused.length);
    s.bytes.should.be.belowOrEqual(20000);
    s.take(1000).map(nOf).should.eql(Array.from({ length: 800 - refused.length }, (_, i) => i)); // the first ones were kept
    s.stats().refused.should.equal(refused.length);
  });

  it("drops the oldest at the byte cap with policy drop-oldest, each with an error while its msg lives", async () => {
    const s = await store({ maxBytes: 20000, policy: "drop-oldest", doneWhen: "acknowledged" });
    const es = Array.from({ length: 400 }, (_, i) => entry(tel("O", i)));
    for (const e of es) s.push(e).should.be.true();
    await tick(20);
    const dropped = es.filter((e) => e.state().startsWith("error"));
    dropped.length.should.be.above(100);
    dropped[0].state().should.match(/the store is full \(cap 19\.5 KiB\): the oldest waiting msg was dropped for a newer one/);
    const kept = s.take(1000).map(nOf);
    kept.should.eql(Array.from({ length: kept.length }, (_, i) => 400 - kept.length + i)); // the newest were kept
    (kept.length + dropped.length).should.equal(400);
    try {
      throw new StoreError("x", "full");
    } catch (err) {
      (err as StoreError).code.should.equal("full");
    }
  });

  it("applies the maximum age: drop-oldest drops what is too old, reject refuses new msgs while the oldest is too old", async () => {
    const drop = await store({ maxAgeMs: 100, policy: "drop-oldest", doneWhen: "acknowledged" }, path.join(root, "drop"));
    const old = [entry(tel("A", 1)), entry(tel("A", 2))];
    old.forEach((e) => drop.push(e));
    await tick(150);
    const fresh = entry(tel("A", 3));
    drop.push(fresh).should.be.true();
    old.map((e) => e.state()).should.eql(old.map(() => "error: waited longer than the maximum age of the store (0.1 s) and was dropped"));
    drop.take(10).map(nOf).should.eql([3]);

    const refuse = await store({ maxAgeMs: 100, policy: "reject" }, path.join(root, "refuse"));
    refuse.push(entry(tel("B", 1)));
    await tick(150);
    const late = entry(tel("B", 2));
    refuse.push(late).should.be.false();
    (await late.result).should.match(/its oldest msg has waited .* more than the maximum age \(0\.1 s\); this msg was not accepted/);
    refuse.take(10).map(nOf).should.eql([1]);
  });

  it("counts and reports what it drops after a restart (msgs already done)", async () => {
    const s = await store();
    const es = Array.from({ length: 50 }, (_, i) => entry(tel("A", i)));
    es.forEach((e) => s.push(e));
    await Promise.all(es.map((e) => e.result));
    await s.close();
    await tick(120);
    const warnings: string[] = [];
    const again = new DiskStore({ dir: s.dir, commitDelayMs: 1, maxAgeMs: 100, policy: "drop-oldest" });
    open.push(again);
    again.on("warning", (m: string) => warnings.push(m));
    await again.open();
    again.size.should.equal(0);
    const st = again.stats();
    st.recovered.should.equal(50);
    st.droppedStored.should.equal(50);
    await again.close();
    warnings.join("\n").should.match(/50 stored msgs were dropped \(their done\(\) came when they were stored\): older than the maximum age \(0\.1 s\)/);
  });

  it("says clearly when its folder cannot be written, and refuses msgs with that reason instead of crashing", async () => {
    const file = path.join(root, "a-file");
    fs.writeFileSync(file, "not a folder");
    const s = new DiskStore({ dir: path.join(file, "gw") });
    open.push(s);
    const failed = new Promise<string>((r) => s.once("failed", r));
    const early = entry(tel("A", 1));
    s.push(early); // before the open finished
    await s.open();
    (await failed).should.match(/the store folder .*a-file\/gw cannot be created: a part of the path is a file, not a folder \(ENOTDIR\)/);
    s.status.should.equal("failed");
    (await early.result).should.match(/ENOTDIR/);
    const later = entry(tel("A", 2));
    s.push(later).should.be.false();
    (await later.result).should.match(/^error: the store folder .* cannot be created/);
  });

  it("is locked against a second process, and takes over the lock of a dead one", async () => {
    const dir = path.join(root, "locked");
    fs.mkdirSync(dir);
    const holder = fork(path.join(__dirname, "..", "support", "lock-holder.js"), [dir], { stdio: ["ignore", "ignore", "inherit", "ipc"] });
    try {
      await new Promise<void>((resolve, reject) => {
        holder.once("message", () => resolve());
        holder.once("exit", (c) => reject(new Error(`lock holder exited ${c}`)));
      });
      const s = new DiskStore({ dir });
      open.push(s);
      const failed = new Promise<string>((r) => s.once("failed", r));
      await s.open();
      (await failed).should.equal(`the store folder ${dir} is locked by another running process (pid ${holder.pid}); two Node-RED instances cannot share a store`);
    } finally {
      const exited = new Promise((r) => holder.once("exit", r));
      holder.kill("SIGKILL"); // its lock file stays behind, as after a crash
      await exited;
    }
    fs.existsSync(path.join(dir, "lock")).should.be.true();
    const s2 = await store({}, dir);
    s2.status.should.equal("open");
    JSON.parse(fs.readFileSync(path.join(dir, "lock"), "utf8")).pid.should.equal(process.pid);
    const inProcess = new DiskStore({ dir });
    open.push(inProcess);
    const failed = new Promise<string>((r) => inProcess.once("failed", r));
    await inProcess.open();
    (await failed).should.match(/already used by another gateway-config in this Node-RED/);
  });

  it("deletes its folder when closed as removed, and keeps it otherwise", async () => {
    const s = await store();
    s.push(entry(tel("A", 1)));
    await s.close();
    fs.existsSync(s.dir).should.be.true();
    fs.existsSync(path.join(s.dir, "lock")).should.be.false();
    const again = await store();
    again.size.should.equal(1);
    again.clear();
    await again.close(true);
    fs.existsSync(again.dir).should.be.false();
  });

  it("removed, deletes only its own files from a folder that holds the user's too", async () => {
    const dir = path.join(root, "shared");
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, "notes.txt"), "mine");
    const s = await store({ segmentBytes: 4096 }, dir);
    for (let n = 0; n < 200; n++) s.push(entry(tel("A", n)));
    await tick(20);
    s.clear();
    await s.close(true);
    fs.readdirSync(dir).should.eql(["notes.txt"]);
  });

  it("hands its live msgs to a successor on the same folder (a redeploy) without storing them twice", async () => {
    const a = await store({ doneWhen: "acknowledged" });
    const es = Array.from({ length: 20 }, (_, i) => entry(tel("H", i)));
    es.forEach((e) => a.push(e));
    a.take(5).forEach((e) => e.resolve()); // delivered before the redeploy
    await tick(10);
    const handed = a.clear();
    await a.close();
    const b = new DiskStore({ dir: a.dir, commitDelayMs: 1, doneWhen: "acknowledged" });
    open.push(b);
    b.unshift(handed);
    await b.open();
    const back = b.take(100);
    back.map(nOf).should.eql(Array.from({ length: 15 }, (_, i) => i + 5));
    back.forEach((e) => e.resolve());
    (await Promise.all(es.map((e) => e.result))).should.eql(es.map(() => "done"));
  });

  it("behind an Outbox: done when stored by default, or when acknowledged on request", async () => {
    class Holding implements Transport {
      acks: Array<() => void> = [];
      publish(): Promise<void> {
        return new Promise((r) => this.acks.push(r));
      }
    }
    for (const doneWhen of ["stored", "acknowledged"] as const) {
      const s = await store({ doneWhen }, path.join(root, doneWhen));
      const box = new Outbox(thingsboard, { batchWindowMs: 1 }, s);
      const t = new Holding();
      box.attach(t);
      let done = 0;
      const all = Array.from({ length: 10 }, (_, i) => box.accept(tel("X", i)).then(() => done++));
      // on disk (the commit counts its records just before it reports them durable) and sent
      for (let waited = 0; !(s.commits.records >= 10 && t.acks.length > 0); waited += 5) {
        if (waited > 10000) throw new Error("not stored and sent within 10 s");
        await tick(5);
      }
      await tick(1);
      done.should.equal(doneWhen === "stored" ? 10 : 0);
      t.acks.forEach((ack) => ack());
      await Promise.all(all);
      done.should.equal(10);
      await tick(10);
      s.bytes.should.equal(0);
      box.close();
      await s.close();
    }
  });
});

describe("OutboxMonitor (the stats the status and the sidebar read)", function () {
  it("says how much waits, how old the oldest is, and at the present rate how long until the cap", () => {
    const box = new Outbox(thingsboard, { maxQueued: 1000 });
    const store = (box as unknown as { store: MemoryStore }).store;
    const monitor = new OutboxMonitor(box, store);
    const t0 = Date.now();
    monitor.sample(t0);
    for (let n = 0; n < 100; n++) box.accept(tel("A", n)).catch(() => undefined);
    monitor.sample(t0 + 1000); // 100 more in one second
    const s = monitor.read(t0 + 1500);
    s.should.have.properties({ store: "memory", waiting: 100, growthPerS: 100, cap: { msgs: 1000 } });
    s.oldestAgeMs!.should.be.within(1500 - (Date.now() - t0) - 5, 1500);
    s.fullInMs!.should.equal(9000); // 900 more at 100/s
    box.close();
  });
});
