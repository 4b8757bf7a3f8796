// The floor of the disk store's drain (issue 14's drain/d, disk): the least a store can do to send
// a backlog from disk. 200,000 points are written as the least gateway node writes them
// (bench/floor-log.ts: a length, a CRC-32, the device and the point's JSON per record, group
// commit), then read back in 4 MB chunks, each record's CRC checked, and sent by the least batcher
// (bench/floor-batch.ts) at QoS 1 through mosquitto until the counter has every point. No
// acknowledgement records, no segments, no order across restarts, no entry objects: a floor.
import fs from "fs";
import os from "os";
import path from "path";
import mqtt from "mqtt";
import { now } from "./clock";
import type { PointCounter } from "./counter";
import { LeastBatcher } from "./floor-batch";
import { LOG_FILE, openLeastLog, readLeastLog } from "./floor-log";
import type { Broker } from "./mosquitto";
import { sourceMsg, type Workload } from "./workload";

export interface DrainFloor {
  outRate: number;
  /** CPU time of this process per point while it drained. */
  cpuUsOut: number;
  timedOut: boolean;
}

export async function runDrainFloor(broker: Broker, counter: PointCounter, w: Workload, timeoutMs: number): Promise<DrainFloor> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "least-drain-"));
  const client = await mqtt.connectAsync(broker.url, { clientId: `bench-least-drain-${process.pid}`, clean: true, reconnectPeriod: 0 });
  try {
    const log = openLeastLog(dir);
    const ts0 = Date.now();
    for (let i = 0; i < w.msgs; i++) {
      const m = sourceMsg(i, w.devices, ts0);
      log.append(m.device, '{"ts":' + m.ts + ',"values":' + JSON.stringify(m.payload) + "}");
    }
    await new Promise<void>((resolve, reject) => log.settles((err) => (err ? reject(err) : resolve())));
    log.close();
    counter.reset();
    const counted = counter.waitFor(w.msgs, timeoutMs);
    const c0 = process.cpuUsage();
    const t0 = now();
    const batcher = new LeastBatcher(client);
    readLeastLog(path.join(dir, LOG_FILE), (device, json) => batcher.add(device, json));
    batcher.flush();
    const c = await counted;
    const cpu = process.cpuUsage(c0);
    return { outRate: c.timedOut ? 0 : c.points / ((c.lastAt - t0) / 1000), cpuUsOut: (cpu.user + cpu.system) / w.msgs, timedOut: c.timedOut };
  } finally {
    await client.endAsync(true);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
