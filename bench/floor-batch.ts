// The least batcher of the floors (bench/floor-nodes.ts, bench/floor-drain.ts): points filed under
// their device (the gateway format has one member per device, its points in order), one QoS 1
// publish when the next point would pass 64 KB or when `flush` is called, and the callbacks of a
// batch called on its PUBACK.
import type { MqttClient } from "mqtt";

export type Done = (err?: Error) => void;

const MAX_BYTES = 65536;
const TOPIC = "v1/gateway/telemetry";

class Batch {
  readonly members = new Map<string, string[]>();
  readonly dones: Done[] = [];
  bytes = 2;
  /** A whole gateway payload sent as it is (`publish`), instead of the members. */
  raw: string | undefined;
}

export class LeastBatcher {
  private batch = new Batch();

  constructor(private readonly client: MqttClient) {}

  add(device: string, point: string): void {
    const b0 = this.batch;
    const add = point.length + 1 + (b0.members.has(device) ? 0 : device.length + 5);
    if (b0.bytes + add > MAX_BYTES) this.flush();
    const b = this.batch;
    const list = b.members.get(device);
    if (list) list.push(point);
    else b.members.set(device, [point]);
    b.bytes += add;
  }

  /** A whole gateway payload as one publish of its own, after what was added before it. */
  publish(json: string): void {
    this.flush();
    this.batch.raw = json;
    this.batch.bytes = MAX_BYTES; // the next point goes into the next publish
  }

  /** `done` is called on the PUBACK of the publish that holds what was added so far. */
  settles(done: Done): void {
    this.batch.dones.push(done);
  }

  flush(): void {
    const b = this.batch;
    if (b.members.size === 0 && b.raw === undefined) return; // (dones of nothing cannot occur: settles follows an add)
    this.batch = new Batch();
    let body = b.raw;
    if (body === undefined) {
      const parts: string[] = [];
      for (const [device, points] of b.members) parts.push(JSON.stringify(device) + ":[" + points.join(",") + "]");
      body = "{" + parts.join(",") + "}";
    }
    this.client.publish(TOPIC, Buffer.from(body), { qos: 1 }, (err) => {
      for (const d of b.dones) d(err ?? undefined);
    });
  }
}
