// The bodies of Watson IoT events: {"d": {...}, "ts": ISO 8601}, the form its dashboards and rules read.
import type { TelemetryPoint } from "../records";

/** `{"d": …, "ts": …}`: the body Watson's dashboards and rules read (ts omitted = the platform's time). */
export function body(d: string, ts: number | undefined): string {
  return ts === undefined ? `{"d":${d}}` : `{"d":${d},"ts":${JSON.stringify(new Date(ts).toISOString())}}`;
}

export function wrapped(v: unknown): boolean {
  if (typeof v !== "object" || v === null || Array.isArray(v) || Buffer.isBuffer(v)) return false;
  const keys = Object.keys(v);
  return keys.includes("d") && keys.every((k) => k === "d" || k === "ts");
}

/** Telemetry points merged per timestamp, in time order (untimed ones last: they mean "now"). */
export function steps(points: readonly TelemetryPoint[]): Array<{ ts: number | undefined; values: Record<string, unknown> }> {
  const byTs = new Map<number, Record<string, unknown>>();
  for (const p of points) {
    const ts = p.ts ?? Infinity;
    byTs.set(ts, { ...(byTs.get(ts) ?? {}), ...p.values });
  }
  return [...byTs.keys()].sort((a, b) => a - b).map((ts) => ({ ts: ts === Infinity ? undefined : ts, values: byTs.get(ts) as Record<string, unknown> }));
}
