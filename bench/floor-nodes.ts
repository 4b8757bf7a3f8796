// The least a gateway node can do and keep telemetry-out's promises, as a Node-RED node type for the
// benchmark (`bench-least-gateway`): it bounds from below what telemetry-out can cost per msg.
// Per msg it serialises the point once ({ts, values}, one JSON.stringify) and files it under its
// device (the gateway format has one member per device: points of one device in order); a batch
// goes out as one QoS 1 publish when the next point would pass 64 KB or when the chunk of msgs that
// arrived in one turn is over; each msg is done on its batch's PUBACK. A multi-device payload is
// the gateway format already: one JSON.stringify of the whole of it, one publish. With `dir` set it also
// writes each point with a length and a CRC-32 to an append-only file, many per fdatasync, and a
// msg is done once its point is on disk (the disk store's "done when stored"). No validation, no
// registry, no rate limits, no split of an oversized point, no statistics, no store on the way
// out: what it does not do, telemetry-out must, so this is a floor, not a rival.
import mqtt from "mqtt";
import type { Node, NodeAPI, NodeDef } from "node-red";
import { LeastBatcher } from "./floor-batch";
import { openLeastLog } from "./floor-log";

interface LeastDef extends NodeDef {
  url: string;
  /** Write every point to a file here before its msg is done; "" keeps nothing on disk. */
  dir?: string;
  /**
   * "accept": done as soon as the point is filed, before it is sent. Breaks the promise (a msg
   * done may still be lost): only to measure what holding each msg until its PUBACK costs.
   */
  doneAt?: "puback" | "accept";
}

export function registerLeastGateway(RED: NodeAPI): void {
  function LeastGateway(this: Node, config: LeastDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const client = mqtt.connect(config.url, { clientId: `bench-least-${process.pid}`, clean: true, reconnectPeriod: 1000 });
    // bench/host.ts waits for `connected` of the nodes it is told to (as of a core mqtt-broker)
    client.on("connect", () => ((node as unknown as { connected: boolean }).connected = true));
    const batcher = new LeastBatcher(client);
    let flushing = false;
    const flush = (): void => {
      flushing = false;
      batcher.flush();
    };

    // The disk side: records appended to one file; a commit writes what gathered and fdatasyncs once.
    const disk = config.dir ? openLeastLog(config.dir) : undefined;

    const file = (device: string, ts: number, values: unknown): string => {
      const point = '{"ts":' + ts + ',"values":' + JSON.stringify(values) + "}";
      batcher.add(device, point);
      return point;
    };

    node.on("input", (msg, _send, done) => {
      const m = msg as typeof msg & { device?: string; ts: number };
      if (m.device !== undefined) {
        const point = file(m.device, m.ts, msg.payload);
        if (disk) disk.append(m.device, point);
      } else if (!disk) {
        // A multi-device payload {device: [{ts, values}, …], …} is already the gateway format:
        // serialised once, whole, and sent as its own publish (after what was filed before it).
        batcher.flush();
        batcher.publish(JSON.stringify(msg.payload));
      } else {
        const all = msg.payload as Record<string, Array<{ ts: number; values: unknown }>>;
        for (const device in all)
          for (const p of all[device]) {
            const point = file(device, p.ts, p.values);
            disk.append(device, point);
          }
      }
      if (disk) disk.settles(done);
      else if (config.doneAt === "accept") done();
      else batcher.settles(done);
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
