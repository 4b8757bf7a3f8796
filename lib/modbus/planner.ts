// Read planning: per area, as few requests as possible. Entries are sorted by address and
// merged greedily into the current request while (a) the gap to bridge is at most maxGap,
// (b) the request stays within the protocol limit, and (c) nothing bridged is forbidden.
// Sorted greedy merging is optimal for this shape of problem (intervals on a line, a length
// cap, and gap/forbidden cuts that only depend on neighbours).
import { entryWidth } from "./codec";
import { isBitArea } from "./register-map";
import type { AddressRange, Area, MapEntry, PlanOptions, ReadPlan, ReadRequest } from "./types";

export const MAX_READ_REGISTERS = 125;
export const MAX_READ_BITS = 2000;
export const DEFAULT_MAX_GAP_REGISTERS = 10;
export const DEFAULT_MAX_GAP_BITS = 64;

const AREA_ORDER: readonly Area[] = ["coil", "discrete", "holding", "input"];

export interface PlanResult {
  plan: ReadPlan;
  errors: string[];
}

function forbiddenIn(ranges: readonly AddressRange[], area: Area, start: number, end: number): AddressRange | undefined {
  return ranges.find((r) => (r.area === undefined || r.area === area) && r.start <= end && r.end >= start);
}

function checkOptions(o: PlanOptions): string[] {
  const errors: string[] = [];
  const int = (v: number | undefined, lo: number, hi: number, name: string): void => {
    if (v !== undefined && !(Number.isInteger(v) && v >= lo && v <= hi)) errors.push(`${name} must be an integer ${lo}..${hi}`);
  };
  int(o.maxRegisters, 1, MAX_READ_REGISTERS, "maxRegisters");
  int(o.maxBits, 1, MAX_READ_BITS, "maxBits");
  int(o.maxGapRegisters, 0, MAX_READ_REGISTERS, "maxGapRegisters");
  int(o.maxGapBits, 0, MAX_READ_BITS, "maxGapBits");
  (o.forbidden ?? []).forEach((r, i) => {
    if (!(Number.isInteger(r.start) && Number.isInteger(r.end) && r.start >= 0 && r.end <= 65535 && r.start <= r.end)) {
      errors.push(`forbidden range ${i + 1}: start/end must be integers with 0 <= start <= end <= 65535`);
    }
  });
  return errors;
}

/** Plans the reads for one unit's (already validated) map. */
export function planReads(entries: readonly MapEntry[], options: PlanOptions = {}): PlanResult {
  const errors = checkOptions(options);
  if (errors.length) return { plan: { requests: [] }, errors };
  const forbidden = options.forbidden ?? [];
  const requests: ReadRequest[] = [];
  for (const area of AREA_ORDER) {
    const bits = isBitArea(area);
    const limit = bits ? options.maxBits ?? MAX_READ_BITS : options.maxRegisters ?? MAX_READ_REGISTERS;
    const maxGap = bits ? options.maxGapBits ?? DEFAULT_MAX_GAP_BITS : options.maxGapRegisters ?? DEFAULT_MAX_GAP_REGISTERS;
    const items = entries
      .map((e, index) => ({ e, index, start: e.address, end: e.address + entryWidth(e) - 1 }))
      .filter((x) => x.e.area === area)
      .sort((a, b) => a.start - b.start || a.end - b.end);
    let cur: { start: number; end: number; entries: number[] } | undefined;
    const flush = (): void => {
      if (cur) requests.push({ area, address: cur.start, count: cur.end - cur.start + 1, entries: cur.entries });
      cur = undefined;
    };
    for (const x of items) {
      const name = `entry ${x.index + 1} (${x.e.key})`;
      if (x.end - x.start + 1 > limit) {
        errors.push(`${name}: needs ${x.end - x.start + 1} registers in one read, more than the ${limit} allowed per request`);
        continue;
      }
      const bad = forbiddenIn(forbidden, area, x.start, x.end);
      if (bad) {
        errors.push(`${name}: reads ${area} ${x.start}..${x.end}, which overlaps forbidden range ${bad.start}..${bad.end}`);
        continue;
      }
      if (cur) {
        const end = Math.max(cur.end, x.end);
        const gap = x.start - cur.end - 1;
        const fits = end - cur.start + 1 <= limit;
        const bridgeOk = gap <= 0 || (gap <= maxGap && !forbiddenIn(forbidden, area, cur.end + 1, x.start - 1));
        if (fits && bridgeOk) {
          cur.end = end;
          cur.entries.push(x.index);
          continue;
        }
        flush();
      }
      cur = { start: x.start, end: x.end, entries: [x.index] };
    }
    flush();
  }
  return { plan: { requests }, errors };
}
