// The least a gateway node can do and keep telemetry-out's promises, as a Node-RED node type for the
// benchmark (`bench-least-gateway`): it bounds from below what telemetry-out can cost per msg.
// Per msg it serialises the point once ({ts, values}, one JSON.stringify) and files it under its
// device (the gateway format has one member per device: points of one device in order); a batch
// goes out as one QoS 1 publish when the next point would pass 64 KB or when the chunk of msgs that
// arrived in one turn is over; each msg is done on its batch's PUBACK. With `dir` set it also
// writes each point with a length and a CRC-32 to an append-only file, many per fdatasync, and a
// msg is done once its point is on disk (the disk store's "done when stored"). No validation, no
// registry, no rate limits, no split of an oversized point, no statistics, no store on the way
// out: what it does not do, telemetry-out must, so this is a floor, not a rival.
import fs from "fs";
import path from "path";
import zlib from "zlib";
import mqtt from "mqtt";
import type { Node, NodeAPI, NodeDef } from "node-red";
import { crc32Js } from "../lib/outbox/store/crc32";

interface LeastDef extends NodeDef {
  url: string;
  /** Write every point to a file here before its msg is done; "" keeps nothing on disk. */
  dir?: string;
}

type Done = (err?: Error) => void;

const MAX_BYTES = 65536;
const TOPIC = "v1/gateway/telemetry";
const crc32 = (zlib as unknown as { crc32?: (b: Uint8Array) => number }).crc32;

/** One publish being filled: per device its points' JSON, and the dones to call on its PUBACK. */
class Batch {
  readonly members = new Map<string, string[]>();
  readonly dones: Done[] = [];
  bytes = 2;
}

export function registerLeastGateway(RED: NodeAPI): void {
  function LeastGateway(this: Node, config: LeastDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const client = mqtt.connect(config.url, { clientId: `bench-least-${process.pid}`, clean: true, reconnectPeriod: 1000 });
    // bench/host.ts waits for `connected` of the nodes it is told to (as of a core mqtt-broker)
    client.on("connect", () => ((node as unknown as { connected: boolean }).connected = true));
    let batch = new Batch();
    let flushing = false;

    const publish = (b: Batch): void => {
      const parts: string[] = [];
      for (const [device, points] of b.members) parts.push(JSON.stringify(device) + ":[" + points.join(",") + "]");
      client.publish(TOPIC, Buffer.from("{" + parts.join(",") + "}"), { qos: 1 }, (err) => {
        if (disk) return; // done when stored
        for (const d of b.dones) d(err ?? undefined);
      });
    };
    const flush = (): void => {
      flushing = false;
      if (batch.dones.length === 0 && batch.members.size === 0) return;
      const b = batch;
      batch = new Batch();
      publish(b);
    };

    // The disk side: records appended to one file; a commit writes what gathered and fdatasyncs once.
    const disk = config.dir ? openLog(config.dir) : undefined;

    const file = (device: string, ts: number, values: unknown): string => {
      const point = '{"ts":' + ts + ',"values":' + JSON.stringify(values) + "}";
      const add = point.length + 1 + (batch.members.has(device) ? 0 : device.length + 5);
      if (batch.bytes + add > MAX_BYTES) flush();
      const list = batch.members.get(device);
      if (list) list.push(point);
      else batch.members.set(device, [point]);
      batch.bytes += add;
      return point;
    };

    node.on("input", (msg, _send, done) => {
      const m = msg as typeof msg & { device?: string; ts: number };
      if (m.device !== undefined) {
        const point = file(m.device, m.ts, msg.payload);
        if (disk) disk.append(m.device, point);
      } else {
        // A multi-device payload {device: [{ts, values}, …], …}; done with the batch of its last point.
        const all = msg.payload as Record<string, Array<{ ts: number; values: unknown }>>;
        for (const device in all)
          for (const p of all[device]) {
            const point = file(device, p.ts, p.values);
            if (disk) disk.append(device, point);
          }
      }
      if (disk) disk.settles(done);
      else batch.dones.push(done);
      if (!flushing) {
        flushing = true;
        setImmediate(flush);
      }
    });
    node.on("close", (removed: boolean, closed: () => void) => {
      disk?.close();
      client.end(true, {}, () => closed());
    });
  }

  RED.nodes.registerType("bench-least-gateway", LeastGateway as unknown as (this: Node, def: NodeDef) => void);
}

/** An append-only file with group commit: records gather in one buffer, one write + fdatasync per commit. */
function openLog(dir: string): { append(device: string, point: string): void; settles(done: Done): void; close(): void } {
  fs.mkdirSync(dir, { recursive: true });
  const fd = fs.openSync(path.join(dir, "least.log"), "a");
  let buf = Buffer.allocUnsafe(1 << 20);
  let used = 0;
  let waiting: Done[] = [];
  let committing = false;
  let closed = false;

  const commit = (): void => {
    if (used === 0 || closed) {
      committing = false;
      return;
    }
    committing = true;
    const out = buf.subarray(0, used);
    const dones = waiting;
    buf = Buffer.allocUnsafe(buf.length);
    used = 0;
    waiting = [];
    fs.write(fd, out, 0, out.length, null, (err) => {
      if (err) return settle(dones, err);
      fs.fdatasync(fd, (e) => settle(dones, e ?? undefined));
    });
  };
  const settle = (dones: Done[], err?: Error | null): void => {
    for (const d of dones) d(err ?? undefined);
    commit(); // what gathered meanwhile: the next group
  };

  return {
    append(device, point) {
      const need = 8 + 2 * (device.length + point.length) + 2;
      if (used + need > buf.length) {
        const bigger = Buffer.allocUnsafe(Math.max(buf.length * 2, used + need));
        buf.copy(bigger, 0, 0, used);
        buf = bigger;
      }
      const start = used + 8;
      let end = start + buf.write(device, start, "utf8");
      buf[end++] = 0;
      end += buf.write(point, end, "utf8");
      buf.writeUInt32LE(end - start, used);
      buf.writeUInt32LE(end - start > 512 && crc32 ? crc32(buf.subarray(start, end)) >>> 0 : crc32Js(buf, start, end), used + 4);
      used = end;
    },
    /** `done` is called by the commit that writes what was appended so far. */
    settles(done) {
      waiting.push(done);
      if (!committing) {
        committing = true;
        setImmediate(commit);
      }
    },
    close() {
      closed = true;
      fs.closeSync(fd);
    },
  };
}
