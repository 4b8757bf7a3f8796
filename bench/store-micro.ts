// The disk store's main-thread cost per msg, without Node-RED, MQTT or the outbox: the time of the
// synchronous calls alone (push: encode and buffer the record, each msg in a setImmediate of its own
// as Node-RED delivers them; take + resolve: hand them out and acknowledge them), in chunks of 1,000
// with the event loop turning between them so that the group commits run as they do under load.
// The figures include ~50 ns of hrtime per push. Side by side with the memory store in one run; the figure
// is main-thread time (the threadpool's writes and fsyncs are not in it).
// `node dist/bench/store-micro.js [--msgs N] [--rounds R]`
import fs from "fs";
import os from "os";
import path from "path";
import { dialectFor } from "../lib/dialect";
import { MsgEntry } from "../lib/outbox/msg-entry";
import { DiskStore } from "../lib/outbox/store/disk";
import { MemoryStore } from "../lib/outbox/store/memory";
import type { Entry, UplinkStore } from "../lib/outbox/types";
import type { Uplink } from "../lib/records";
import { sourceMsg } from "./workload";

const dialect = dialectFor("thingsboard");
const counter = { ended: (): void => undefined };

function entries(from: number, n: number, t0: number, done: () => void): MsgEntry[] {
  const out: MsgEntry[] = [];
  for (let i = from; i < from + n; i++) {
    const m = sourceMsg(i, 100, t0);
    const u: Uplink = { kind: "telemetry", device: m.device, points: [{ ts: m.ts, values: m.payload }] };
    out.push(new MsgEntry(u, dialect.prepare(u), done, counter));
  }
  return out;
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

async function run(store: UplinkStore, msgs: number): Promise<{ pushUs: number; ackUs: number }> {
  let done = 0;
  const onDone = (): void => {
    done++;
  };
  const t0 = Date.now();
  let push = 0n;
  let ack = 0n;
  for (let i = 0; i < msgs; i += 1000) {
    const batch = entries(i, 1000, t0, onDone);
    // Each msg in a setImmediate of its own, as Node-RED delivers them (microtasks run between).
    await new Promise<void>((resolve) => {
      let left = batch.length;
      for (const e of batch)
        setImmediate(() => {
          const a = process.hrtime.bigint();
          store.push(e);
          push += process.hrtime.bigint() - a;
          if (--left === 0) resolve();
        });
    });
    // The outbox takes up to its batch and acknowledges them (here at once).
    const b = process.hrtime.bigint();
    const taken: Entry[] = store.take(1000);
    for (const e of taken) {
      e.prepared = undefined;
      e.resolve();
    }
    ack += process.hrtime.bigint() - b;
    await turn();
  }
  if (store instanceof DiskStore) {
    while (done < msgs) await new Promise((r) => setTimeout(r, 5));
  }
  return { pushUs: Number(push) / 1000 / msgs, ackUs: Number(ack) / 1000 / msgs };
}

if (require.main === module) {
  void (async () => {
    const arg = (name: string, d: number): number => {
      const i = process.argv.indexOf(name);
      return i > 0 ? Number(process.argv[i + 1]) : d;
    };
    const msgs = arg("--msgs", 200000);
    const rounds = arg("--rounds", 3);
    const all: number[][] = [[], [], [], []];
    for (let r = 0; r < rounds; r++) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "store-micro-"));
      const disk = new DiskStore({ dir, maxBytes: 0, doneWhen: "stored", telemetryPieces: "ts-values" });
      await disk.open();
      const d = await run(disk, msgs);
      disk.clear();
      await disk.close(true);
      const m = await run(new MemoryStore(), msgs);
      [d.pushUs, d.ackUs, m.pushUs, m.ackUs].forEach((v, k) => all[k].push(v));
      if (process.argv.includes("--each")) console.log(`store micro: disk push ${d.pushUs.toFixed(3)} µs, take+ack ${d.ackUs.toFixed(3)} µs; memory push ${m.pushUs.toFixed(3)} µs, take+ack ${m.ackUs.toFixed(3)} µs (per msg, main thread)`);
    }
    const min = (a: number[]): string => Math.min(...a).toFixed(3);
    const median = (a: number[]): string => [...a].sort((x, y) => x - y)[a.length >> 1].toFixed(3);
    console.log(`store micro (${rounds} rounds, min / median µs per msg, main thread): disk push ${min(all[0])} / ${median(all[0])}, take+ack ${min(all[1])} / ${median(all[1])}; memory push ${min(all[2])} / ${median(all[2])}, take+ack ${min(all[3])} / ${median(all[3])}`);
    process.exit(0);
  })();
}
