// One clock for every process of the run: wall-clock origin plus a monotonic offset, in ms.
import { performance } from "perf_hooks";

export function now(): number {
  return performance.timeOrigin + performance.now();
}
