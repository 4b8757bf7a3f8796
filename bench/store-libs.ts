// The segment log against a library made for it (issue 8, "choose the mechanism by measurement"):
// the same job for both, in this process, side by side. 200,000 uplinks of the workload (their
// records' payloads) written in group commits of 1000 (one write + fsync each), then read back in
// order, decoded (uplink-frame.ts), and removed (acknowledged) in groups of 5000, durably too. Figures: wall time
// and CPU per entry for each half.
//   segment log: log.ts / commit.ts / reader.ts alone (and, for scale, the whole DiskStore with its
//     entries and queue, as bench/store-only.ts measures it)
//   classic-level: LevelDB with prebuilt binaries; not a dependency of the package: give its
//     folder with CLASSIC_LEVEL=/path/node_modules/classic-level (skipped without it)
//   node:sqlite: Node ≥ 22.5 only (skipped where it is absent)
// `node dist/bench/store-libs.js [--msgs N]`
import fs from "fs";
import os from "os";
import path from "path";
import { thingsboard } from "../lib/dialect/thingsboard";
import { SegmentLog } from "../lib/outbox/store/log";
import { LogReader, type Position } from "../lib/outbox/store/reader";
import { RecordType, type Payload } from "../lib/outbox/store/record";
import type { Segment } from "../lib/outbox/store/segment-file";
import { PayloadWriter } from "../lib/outbox/store/uplink-frame";
import { readUplink } from "../lib/outbox/store/uplink-read";
import type { Uplink } from "../lib/records";
import { now } from "./clock";
import { runStoreOnly } from "./store-only";
import { sourceMsg } from "./workload";

interface Half {
  seconds: number;
  cpuUs: number;
}
interface LibRun {
  write: Half;
  read: Half;
}

/** The workload's records' payloads, as the store writes them (uplink-frame.ts). */
function records(msgs: number): Buffer[] {
  const out: Buffer[] = [];
  const w = new PayloadWriter();
  const scratch = Buffer.alloc(64 * 1024);
  for (let i = 0; i < msgs; i++) {
    const m = sourceMsg(i, 100, 1764000000000);
    const u: Uplink = { kind: "telemetry", device: m.device, points: [{ ts: m.ts, values: m.payload }] };
    w.set(u, thingsboard.prepare(u));
    out.push(Buffer.from(scratch.subarray(0, w.write(scratch, 0))));
  }
  return out;
}

/** A payload already made: copied into the log. */
class Bytes implements Payload {
  b: Buffer = Buffer.alloc(0);
  get max(): number {
    return this.b.length;
  }
  write(buf: Buffer, off: number): number {
    return off + this.b.copy(buf, off);
  }
}

async function measure(f: () => Promise<void>, msgs: number): Promise<Half> {
  const c0 = process.cpuUsage();
  const t0 = now();
  await f();
  const c = process.cpuUsage(c0);
  return { seconds: (now() - t0) / 1000, cpuUs: (c.user + c.system) / msgs };
}

function key(seq: number): Buffer {
  const k = Buffer.allocUnsafe(8);
  k.writeDoubleBE(seq, 0);
  return k;
}

interface Level {
  open(): Promise<void>;
  close(): Promise<void>;
  batch(ops: Array<{ type: "put" | "del"; key: Buffer; value?: Buffer }>, o: { sync: boolean }): Promise<void>;
  iterator(o: { keyEncoding?: string; valueEncoding?: string; limit?: number }): { nextv(n: number): Promise<Array<[Buffer, Buffer]>>; close(): Promise<void> };
}

async function classicLevel(dir: string, recs: Buffer[]): Promise<LibRun | undefined> {
  const where = process.env.CLASSIC_LEVEL;
  if (!where) return undefined;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { ClassicLevel } = require(where) as { ClassicLevel: new (dir: string, o: object) => Level };
  const db = new ClassicLevel(dir, { keyEncoding: "buffer", valueEncoding: "buffer" });
  await db.open();
  const n = recs.length;
  const write = await measure(async () => {
    for (let i = 0; i < n; i += 1000) {
      const ops = [];
      for (let j = i; j < Math.min(n, i + 1000); j++) ops.push({ type: "put" as const, key: key(j + 1), value: recs[j] });
      await db.batch(ops, { sync: true });
    }
  }, n);
  let seen = 0;
  const read = await measure(async () => {
    const it = db.iterator({ keyEncoding: "buffer", valueEncoding: "buffer" });
    for (;;) {
      const got = await it.nextv(5000);
      if (got.length === 0) break;
      const dels = got.map(([k, v]) => {
        readUplink(v, 0, v.length);
        seen++;
        return { type: "del" as const, key: k };
      });
      await db.batch(dels, { sync: true });
    }
    await it.close();
  }, n);
  await db.close();
  if (seen !== n) throw new Error(`classic-level gave back ${seen} of ${n}`);
  return { write, read };
}

interface Sqlite {
  exec(sql: string): void;
  prepare(sql: string): { run(...a: unknown[]): unknown; all(...a: unknown[]): Array<{ seq: number; json: Uint8Array }> };
  close(): void;
}

async function nodeSqlite(dir: string, recs: Buffer[]): Promise<LibRun | undefined> {
  let mod: { DatabaseSync: new (file: string) => Sqlite };
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    mod = require("node:sqlite") as typeof mod;
  } catch {
    return undefined;
  }
  const db = new mod.DatabaseSync(path.join(dir, "store.db"));
  db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; CREATE TABLE q (seq INTEGER PRIMARY KEY, json BLOB NOT NULL)");
  const ins = db.prepare("INSERT INTO q (seq, json) VALUES (?, ?)");
  const n = recs.length;
  const write = await measure(async () => {
    for (let i = 0; i < n; i += 1000) {
      db.exec("BEGIN");
      for (let j = i; j < Math.min(n, i + 1000); j++) ins.run(j + 1, recs[j]);
      db.exec("COMMIT");
      await new Promise((r) => setImmediate(r));
    }
  }, n);
  const sel = db.prepare("SELECT seq, json FROM q WHERE seq > ? ORDER BY seq LIMIT 5000");
  const del = db.prepare("DELETE FROM q WHERE seq <= ?");
  let seen = 0;
  const read = await measure(async () => {
    let last = 0;
    for (;;) {
      const rows = sel.all(last);
      if (rows.length === 0) break;
      for (const r of rows) {
        const b = Buffer.from(r.json.buffer, r.json.byteOffset, r.json.byteLength);
        readUplink(b, 0, b.length);
      }
      seen += rows.length;
      last = rows[rows.length - 1].seq;
      del.run(last);
      await new Promise((r) => setImmediate(r));
    }
  }, n);
  db.close();
  if (seen !== n) throw new Error(`node:sqlite gave back ${seen} of ${n}`);
  return { write, read };
}

/** The segment log alone (log.ts, commit.ts, reader.ts): what the two libraries do, no more. */
async function segmentLog(dir: string, recs: Buffer[]): Promise<LibRun> {
  let durable = 0;
  let wake: (() => void) | undefined;
  const { log } = SegmentLog.open<number>(dir, { delayMs: 3, segmentBytes: 4 * 1024 * 1024 }, {
    durable: (items) => {
      durable += items.length;
      wake?.();
    },
    failed: (err) => {
      throw err;
    },
    warn: (m) => console.warn(m),
    deleted: (seg) => reader.release(seg),
  });
  const reader = new LogReader();
  const n = recs.length;
  const at = Date.now();
  const placed: Array<Segment> = [];
  const bytes = new Bytes();
  const write = await measure(async () => {
    for (let i = 0; i < n; i += 1000) {
      const end = Math.min(n, i + 1000);
      for (let j = i; j < end; j++) {
        bytes.b = recs[j];
        log.append(RecordType.Data, j + 1, at, bytes, j);
        placed.push(log.lastSeg);
      }
      while (durable < end) await new Promise<void>((r) => (wake = r));
    }
  }, n);
  let seen = 0;
  const read = await measure(async () => {
    const pos: Position | undefined = log.start;
    const after = (seg: Segment): Segment | undefined => log.segs.find((x) => x.id > seg.id);
    while (pos) {
      if (!reader.next(pos, after, (m) => console.warn(m))) break;
      const rec = reader.record;
      if (rec.type !== RecordType.Data) continue;
      readUplink(reader.buf, rec.payloadStart, rec.end);
      log.ack(placed[seen], rec.seq);
      seen++;
      if (seen % 5000 === 0) await new Promise((r) => setImmediate(r));
    }
    reader.close();
    await log.close(false);
  }, n);
  if (seen !== n) throw new Error(`the segment log gave back ${seen} of ${n}`);
  return { write, read };
}

const fmt = (n: number): string => Math.round(n).toLocaleString("en-US");

function line(name: string, r: LibRun, n: number): string {
  return `${name}: write ${fmt(n / r.write.seconds)}/s (${r.write.cpuUs.toFixed(2)} µs CPU), read + ack ${fmt(n / r.read.seconds)}/s (${r.read.cpuUs.toFixed(2)} µs CPU)`;
}

if (require.main === module) {
  void (async () => {
    const i = process.argv.indexOf("--msgs");
    const n = i > 0 ? Number(process.argv[i + 1]) : 200000;
    const recs = records(n);
    for (const [name, f] of [
      ["segment log", segmentLog],
      ["classic-level", classicLevel],
      ["node:sqlite", nodeSqlite],
    ] as const) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "store-libs-"));
      try {
        const r = await f(dir, recs);
        console.log(r ? line(name, r, n) : `${name}: not available here`);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
    // The segment log, on the whole store (entries, limits, queue), as store-only.ts measures it.
    const t0 = now();
    const s = await runStoreOnly("disk", "backlog", n);
    console.log(`segment log (the DiskStore, entries included): in + out ${fmt(n / ((now() - t0) / 1000))}/s, CPU in ${s.inUs.toFixed(2)} µs, out ${s.outUs.toFixed(2)} µs (its "in" counts making the entries, ~1.2 µs)`);
  })().catch((err: Error) => {
    console.error(err.stack ?? err);
    process.exit(1);
  });
}
