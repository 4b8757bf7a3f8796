// What serialising alone costs per point, in this process, for variant m's payloads: build the
// 100-point multi-device payload and turn it into bytes once (JSON.stringify + Buffer.from), with
// nothing else (no validation, split, store, MQTT). It bounds from below what telemetry-out can
// cost per point, and so says how far m/d could go if everything else cost nothing.
import { multiDevicePayload, type Workload } from "./workload";

export interface JsonFloor {
  /** CPU µs per point: the payloads built, nothing else. */
  buildUs: number;
  /** CPU µs per point: built and serialised to bytes once. */
  serialiseUs: number;
}

function cpuUs(points: number, perMsg: number, f: (from: number) => void): number {
  const c0 = process.cpuUsage();
  for (let from = 0; from < points; from += perMsg) f(from);
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / points;
}

/** The median of three rounds of each, side by side. */
export function measureJsonFloor(w: Workload, perMsg: number): JsonFloor {
  const t0 = Date.now();
  const build: number[] = [];
  const serialise: number[] = [];
  let sink = 0;
  for (let r = 0; r < 3; r++) {
    build.push(cpuUs(w.msgs, perMsg, (from) => { sink += Object.keys(multiDevicePayload(from, perMsg, w.devices, t0)).length; }));
    serialise.push(cpuUs(w.msgs, perMsg, (from) => { sink += Buffer.from(JSON.stringify(multiDevicePayload(from, perMsg, w.devices, t0))).length; }));
  }
  if (sink < 0) throw new Error("unreachable");
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[1];
  return { buildUs: median(build), serialiseUs: median(serialise) };
}
