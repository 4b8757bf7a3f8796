// The floors as bounds of `npm run bench`'s lines: the least gateway node (one point per msg, and
// 100 points per msg) and the least drain from disk, run beside the variants whose ratios the lines
// print, so that each line can say whether its target is within reach of anything on this machine.
import type { PointCounter } from "./counter";
import { runDrainFloor } from "./floor-drain";
import { runLeast } from "./floor";
import type { Broker } from "./mosquitto";
import { MULTI_POINTS } from "./telemetry";
import type { Workload } from "./workload";

export interface Bounds {
  /** Points/s of the least node, one point per msg (done on PUBACK), and with 100 points per msg. */
  least: number;
  leastM: number;
  /** Points/s of the least drain of a backlog on disk. */
  leastDrain: number;
}

export async function measureBounds(broker: Broker, counter: PointCounter, w: Workload, timeoutMs: number): Promise<Bounds> {
  const least = await runLeast(broker, counter, w, timeoutMs);
  const leastM = await runLeast(broker, counter, { ...w, pointsPerMsg: MULTI_POINTS }, timeoutMs);
  const drain = await runDrainFloor(broker, counter, w, timeoutMs);
  return { least: least.timedOut ? 0 : least.outRate, leastM: leastM.timedOut ? 0 : leastM.outRate, leastDrain: drain.timedOut ? 0 : drain.outRate };
}

/** What a line adds after its verdict: the bound the least implementation reached in the same run. */
export function boundNote(bound: number | null, target: number): string {
  if (bound === null || !Number.isFinite(bound)) return "";
  return `; the least implementation reaches ${bound.toFixed(2)} here (bench/floor-*.ts): ${bound >= target ? "within reach" : "out of reach on this machine"}`;
}
