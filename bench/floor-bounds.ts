// The floors beside `npm run bench`'s lines: the least gateway node (one point per msg, and 100
// points per msg) and the least drain from disk, run beside the variants whose ratios the lines
// print, so that each line also says what the least implementation reaches on this machine.
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

/**
 * What a line adds after its verdict: what the least implementation (bench/floor-*.ts) reached in
 * the same run. It is the least we could write that keeps the promises, not a proof: a cleverer
 * one could do better, and telemetry-out may (its serialiser is faster than one JSON.stringify).
 */
export function boundNote(bound: number | null, target: number): string {
  if (bound === null || !Number.isFinite(bound)) return "";
  return `; the least node reaches ${bound.toFixed(2)} in this run, ${bound >= target ? "above the target" : "below the target too"}`;
}
