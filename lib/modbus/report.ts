// Report strategies: decide, per key, whether a freshly polled value goes out. Pure functions
// plus a small state holder; comparisons are against the last *reported* value, so a slow drift
// is reported once it has accumulated past the deadband.
import type { ReportPolicy, Value } from "./types";

export interface Reported {
  value: Value;
  ts: number;
}

function changed(policy: ReportPolicy, prev: Value, value: Value): boolean {
  if (typeof prev === "number" && typeof value === "number") {
    if (Number.isNaN(prev) || Number.isNaN(value)) return !(Number.isNaN(prev) && Number.isNaN(value));
    const delta = Math.abs(value - prev);
    if (policy.deadbandPercent !== undefined) return delta > (Math.abs(prev) * policy.deadbandPercent) / 100;
    return delta > (policy.deadband ?? 0);
  }
  return prev !== value;
}

/** Should `value`, polled at `now`, be reported given what was last reported for this key? */
export function shouldReport(policy: ReportPolicy | undefined, last: Reported | undefined, value: Value, now: number): boolean {
  const mode = policy?.mode ?? "every-poll";
  if (mode === "every-poll" || last === undefined) return true;
  const p = policy as ReportPolicy;
  const due = p.periodMs !== undefined && now - last.ts >= p.periodMs;
  switch (mode) {
    case "on-change":
      return changed(p, last.value, value);
    case "period":
      return due;
    case "change-or-period":
      return due || changed(p, last.value, value);
  }
}

/** Holds the last reported value of each key. */
export class Reporter {
  private readonly last = new Map<string, Reported>();

  constructor(private readonly policies: ReadonlyMap<string, ReportPolicy | undefined>) {}

  /** The subset of `values` to report now; remembers what it let through. */
  filter(values: Record<string, Value>, now: number): Record<string, Value> {
    const out: Record<string, Value> = {};
    for (const [key, value] of Object.entries(values)) {
      if (shouldReport(this.policies.get(key), this.last.get(key), value, now)) {
        out[key] = value;
        this.last.set(key, { value, ts: now });
      }
    }
    return out;
  }

  /** Forget everything, e.g. after the device was disconnected, so the next poll reports all. */
  reset(): void {
    this.last.clear();
  }
}
