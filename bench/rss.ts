// Memory of a Node-RED process with 10,000 connected devices against the same process idle.
import { GATEWAY_CREDENTIALS, telemetryOutCountedFlow } from "./flows";
import type { Memory } from "./host";
import type { Broker } from "./mosquitto";
import { NodeRedHost } from "./nodered";

export interface RssResult {
  devices: number;
  idle: Memory;
  loaded: Memory;
  registry: number;
  done: number;
  errors: number;
  firstError?: string;
  /** loaded.rss - idle.rss, bytes */
  rssDelta: number;
  heapDelta: number;
  seconds: number;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function measureRss(broker: Broker, devices: number, timeoutMs: number): Promise<RssResult> {
  const host = await NodeRedHost.start({ flows: telemetryOutCountedFlow(broker.url), credentials: GATEWAY_CREDENTIALS });
  try {
    await host.ready(["gw"]);
    await sleep(1000);
    const idle = await host.gc(5);
    const t0 = await host.generate({ msgs: devices, devices, chunk: 1000 });
    const done = await host.waitDone(devices, devices, timeoutMs);
    await sleep(500);
    const loaded = await host.gc(5);
    return {
      devices,
      idle: idle.memory,
      loaded: loaded.memory,
      registry: loaded.registry ?? 0,
      done: loaded.done ?? 0,
      errors: loaded.errors?.errors ?? 0,
      firstError: loaded.errors?.firstError,
      rssDelta: loaded.memory.rss - idle.memory.rss,
      heapDelta: loaded.memory.heapUsed - idle.memory.heapUsed,
      seconds: (done.at - t0) / 1000,
    };
  } finally {
    await host.stop();
  }
}
