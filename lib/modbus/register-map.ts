// Register maps come from users (editor, CSV, JSON): everything is checked here, once, and every
// problem is reported with the entry it belongs to, so a map is fixed in one pass.
import { widthOf } from "./codec";
import type { Area, DataType, MapEntry, Order, ReportMode, ReportPolicy, Target } from "./types";

export const AREAS: readonly Area[] = ["coil", "discrete", "holding", "input"];
export const DATA_TYPES: readonly DataType[] = [
  "bool", "bit", "int16", "uint16", "int32", "uint32", "float32", "int64", "uint64", "float64", "string",
];
export const ORDERS: readonly Order[] = ["ABCD", "BADC", "CDAB", "DCBA"];
export const TARGETS: readonly Target[] = ["telemetry", "attribute"];
export const REPORT_MODES: readonly ReportMode[] = ["every-poll", "on-change", "period", "change-or-period"];

export interface MapValidation {
  /** Normalised entries (defaults filled in); only meaningful when `errors` is empty. */
  entries: MapEntry[];
  errors: string[];
}

export function isBitArea(area: Area): boolean {
  return area === "coil" || area === "discrete";
}

type Raw = Record<string, unknown>;

function isInt(v: unknown, lo: number, hi: number): v is number {
  return typeof v === "number" && Number.isInteger(v) && v >= lo && v <= hi;
}

function oneOf<T extends string>(v: unknown, list: readonly T[]): v is T {
  return typeof v === "string" && (list as readonly string[]).includes(v);
}

function checkReport(raw: unknown, fail: (m: string) => void): ReportPolicy | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== "object" || raw === null) {
    fail("report must be an object {mode, deadband?, deadbandPercent?, periodMs?}");
    return undefined;
  }
  const r = raw as Raw;
  if (!oneOf(r.mode, REPORT_MODES)) {
    fail(`report mode must be one of ${REPORT_MODES.join(", ")}, got ${JSON.stringify(r.mode)}`);
    return undefined;
  }
  const policy: ReportPolicy = { mode: r.mode };
  for (const k of ["deadband", "deadbandPercent"] as const) {
    if (r[k] === undefined) continue;
    if (typeof r[k] !== "number" || !((r[k] as number) >= 0)) fail(`${k} must be a number >= 0`);
    else policy[k] = r[k] as number;
  }
  if (r.periodMs !== undefined) {
    if (!isInt(r.periodMs, 1, 2 ** 31 - 1)) fail("report periodMs must be a positive integer");
    else policy.periodMs = r.periodMs;
  }
  if ((policy.mode === "period" || policy.mode === "change-or-period") && policy.periodMs === undefined) {
    fail(`report mode ${policy.mode} needs periodMs`);
  }
  return policy;
}

/** Validates one entry; `fail` collects errors (already prefixed with the entry's name). */
function checkEntry(raw: unknown, fail: (m: string) => void): MapEntry | undefined {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    fail("must be an object");
    return undefined;
  }
  const r = raw as Raw;
  const okBefore = { n: 0 };
  const f = (m: string): void => { okBefore.n++; fail(m); };
  if (typeof r.key !== "string" || r.key.trim() === "") f("key must be a non-empty string");
  if (!oneOf(r.area, AREAS)) f(`area must be one of ${AREAS.join(", ")}, got ${JSON.stringify(r.area)}`);
  if (!isInt(r.address, 0, 65535)) f(`address must be an integer 0..65535, got ${JSON.stringify(r.address)}`);
  if (!oneOf(r.type, DATA_TYPES)) f(`type must be one of ${DATA_TYPES.join(", ")}, got ${JSON.stringify(r.type)}`);
  if (okBefore.n > 0) return undefined;
  const area = r.area as Area;
  const type = r.type as DataType;
  const e: MapEntry = { key: (r.key as string).trim(), area, address: r.address as number, type };

  if (isBitArea(area) && type !== "bool") {
    const w = widthOf(type, isInt(r.length, 1, 125) ? r.length : undefined);
    f(`type ${type} needs ${w} register${w > 1 ? "s" : ""}, area ${area} holds bits (use type bool)`);
  }
  if (!isBitArea(area) && type === "bool") f(`type bool needs area coil or discrete; for a bit of a ${area} register use type bit with bit 0..15`);
  if (type === "bit") {
    if (!isInt(r.bit, 0, 15)) f(`type bit needs bit 0..15, got ${JSON.stringify(r.bit)}`);
    else e.bit = r.bit;
  } else if (r.bit !== undefined) f(`bit only applies to type bit`);
  if (type === "string") {
    if (!isInt(r.length, 1, 125)) f(`type string needs length 1..125 (registers, 2 characters each), got ${JSON.stringify(r.length)}`);
    else e.length = r.length;
  } else if (r.length !== undefined) f("length only applies to type string");

  if (r.order !== undefined && !oneOf(r.order, ORDERS)) f(`order must be one of ${ORDERS.join(", ")}, got ${JSON.stringify(r.order)}`);
  e.order = oneOf(r.order, ORDERS) ? r.order : "ABCD";
  const numeric = type !== "bool" && type !== "bit" && type !== "string";
  for (const k of ["scale", "offset"] as const) {
    if (r[k] === undefined) continue;
    if (typeof r[k] !== "number" || !Number.isFinite(r[k])) f(`${k} must be a finite number`);
    else if (!numeric) f(`${k} only applies to numeric types, not ${type}`);
    else if (k === "scale" && r[k] === 0) f("scale must not be 0 (writes divide by it)");
    else e[k] = r[k] as number;
  }
  if (r.round !== undefined) {
    if (!isInt(r.round, 0, 10)) f("round must be an integer 0..10 (decimals)");
    else if (!numeric) f(`round only applies to numeric types, not ${type}`);
    else e.round = r.round;
  }
  if (r.target !== undefined && !oneOf(r.target, TARGETS)) f(`target must be telemetry or attribute, got ${JSON.stringify(r.target)}`);
  e.target = oneOf(r.target, TARGETS) ? r.target : "telemetry";
  if (r.writable !== undefined && typeof r.writable !== "boolean") f("writable must be true or false");
  e.writable = r.writable === true;
  if (e.writable && (area === "discrete" || area === "input")) f(`area ${area} is read-only; only coil and holding entries can be writable`);
  if (e.writable && type === "bit") f("a bit of a register cannot be written on its own (no atomic write); map a coil or the whole register");
  const report = checkReport(r.report, f);
  if (report) e.report = report;

  const width = widthOf(type, e.length);
  if (e.address + width - 1 > 65535) f(`spans past address 65535 (${width} registers from ${e.address})`);
  // one FC16 carries at most 123 registers (Modbus Application Protocol 6.12); a value is written whole
  if (e.writable && area === "holding" && width > 123) f(`is writable but spans ${width} registers; one write (FC16) carries at most 123: make it read-only or shorter`);
  return okBefore.n > 0 ? undefined : e;
}

/**
 * Validates a map given as parsed JSON or editor config. Entries are named "entry N (key)" with
 * N counted from 1, as a user counts rows.
 */
export function validateMap(input: unknown): MapValidation {
  const errors: string[] = [];
  if (!Array.isArray(input)) return { entries: [], errors: ["register map must be an array of entries"] };
  if (input.length === 0) errors.push("register map is empty");
  const entries: MapEntry[] = [];
  const seen = new Map<string, number>();
  input.forEach((raw, i) => {
    const key = typeof raw === "object" && raw !== null && typeof (raw as Raw).key === "string" ? (raw as Raw).key : "";
    const name = `entry ${i + 1}${key ? ` (${key})` : ""}`;
    const e = checkEntry(raw, (m) => errors.push(`${name}: ${m}`));
    if (!e) return;
    const prev = seen.get(e.key);
    if (prev !== undefined) errors.push(`${name}: key ${e.key} is already used by entry ${prev}`);
    else seen.set(e.key, i + 1);
    entries.push(e);
  });
  return { entries, errors };
}

/** Throws one error listing every problem; returns the normalised entries. */
export function assertValidMap(input: unknown): MapEntry[] {
  const { entries, errors } = validateMap(input);
  if (errors.length) throw new Error(`invalid register map: ${errors.join("; ")}`);
  return entries;
}

export function parseMapJson(text: string): MapValidation {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return { entries: [], errors: [`register map is not valid JSON: ${(err as Error).message}`] };
  }
  return validateMap(parsed);
}

/** JSON with defaults left out, so a saved map stays what the user wrote. */
export function mapToJson(entries: readonly MapEntry[]): string {
  const slim = entries.map((e) => {
    const o: MapEntry = { key: e.key, area: e.area, address: e.address, type: e.type };
    if (e.bit !== undefined) o.bit = e.bit;
    if (e.length !== undefined) o.length = e.length;
    if (e.order && e.order !== "ABCD") o.order = e.order;
    if (e.scale !== undefined && e.scale !== 1) o.scale = e.scale;
    if (e.offset !== undefined && e.offset !== 0) o.offset = e.offset;
    if (e.round !== undefined) o.round = e.round;
    if (e.target && e.target !== "telemetry") o.target = e.target;
    if (e.writable) o.writable = true;
    if (e.report && e.report.mode !== "every-poll") o.report = e.report;
    return o;
  });
  return JSON.stringify(slim, null, 2);
}
