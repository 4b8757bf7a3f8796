// Per Modbus line figures in the gateway's statistics: requests sent (retries too), requests that
// ended in an error, and timeouts, as keys `modbus.<line name>.<figure>`. The lines are counted
// by lib/modbus/line.ts; here they are only named and flattened.

/** One line's counters (cumulative since it opened). */
export interface LineFigures {
  /** the modbus-connection's name, or its target (host:port, serial path) when unnamed */
  name: string;
  requests: number;
  errors: number;
  timeouts: number;
}

export const LINE_FIGURES = ["requests", "errors", "timeouts"] as const;

/** {"modbus.<name>.requests": n, …}; a name used twice gets " #2", " #3"… in the order given. */
export function lineValues(lines: readonly LineFigures[]): Record<string, number> {
  const out: Record<string, number> = {};
  const seen = new Map<string, number>();
  for (const l of lines) {
    const base = l.name.trim() || "line";
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    const name = n === 1 ? base : `${base} #${n}`;
    for (const f of LINE_FIGURES) out[`modbus.${name}.${f}`] = l[f];
  }
  return out;
}

/** What changed since `last` (a line that reopened counts from zero again). */
export function lineDeltas(now: Record<string, number>, last: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k in now) {
    const before = last[k] ?? 0;
    out[k] = now[k] >= before ? now[k] - before : now[k];
  }
  return out;
}
