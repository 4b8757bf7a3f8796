// The workload every variant sends: msg i is a point of "Device <i mod devices>" with two values.
export interface Workload {
  msgs: number;
  devices: number;
  /** Msgs generated per turn of the event loop before yielding to I/O. */
  chunk: number;
  /**
   * Points per msg. 1 (the workload): `msg.device` + `{temperature, humidity}`. More:
   * a multi-device payload `{"Device N": [{ts, values}], …}` carrying that many points, and
   * `msgs` / `chunk` still count points.
   */
  pointsPerMsg?: number;
}

export const DEFAULT_WORKLOAD: Workload = { msgs: 200000, devices: 100, chunk: 1000 };

export interface SourceMsg {
  device: string;
  payload: { temperature: number; humidity: number };
  ts: number;
}

export function deviceName(i: number, devices: number): string {
  return "Device " + (i % devices);
}

export function sourceMsg(i: number, devices: number, t0: number): SourceMsg {
  return { device: deviceName(i, devices), payload: { temperature: 20 + (i % 100) / 10, humidity: 40 + (i % 37) }, ts: t0 + i };
}

/** Points `from`…`from + n - 1` as one multi-device msg payload. */
export function multiDevicePayload(from: number, n: number, devices: number, t0: number): Record<string, Array<{ ts: number; values: SourceMsg["payload"] }>> {
  const out: Record<string, Array<{ ts: number; values: SourceMsg["payload"] }>> = {};
  for (let i = from; i < from + n; i++) {
    const m = sourceMsg(i, devices, t0);
    (out[m.device] ??= []).push({ ts: m.ts, values: m.payload });
  }
  return out;
}

/** One point in the gateway's telemetry format, as a user would build it per msg. */
export function gatewayPayload(m: SourceMsg): string {
  return JSON.stringify({ [m.device]: [{ ts: m.ts, values: m.payload }] });
}

/**
 * Every point of the workload in publishes of at most `maxBytes`: `{"Device 0":[…],…}`, each
 * device's points in order. What a perfect batcher would put on the wire.
 */
export function preBatched(w: Workload, t0: number, maxBytes: number): Buffer[] {
  const out: Buffer[] = [];
  let members = new Map<string, string[]>();
  let size = 2;
  const close = (): void => {
    const parts: string[] = [];
    for (const [d, list] of members) parts.push(`${JSON.stringify(d)}:[${list.join(",")}]`);
    out.push(Buffer.from(`{${parts.join(",")}}`));
    members = new Map();
    size = 2;
  };
  for (let i = 0; i < w.msgs; i++) {
    const m = sourceMsg(i, w.devices, t0);
    const point = JSON.stringify({ ts: m.ts, values: m.payload });
    const list = members.get(m.device);
    const add = list ? point.length + 1 : JSON.stringify(m.device).length + 3 + point.length + (members.size > 0 ? 1 : 0);
    if (size + add > maxBytes) {
      close();
      i--;
      continue;
    }
    if (list) list.push(point);
    else members.set(m.device, [point]);
    size += add;
  }
  if (members.size > 0) close();
  return out;
}
