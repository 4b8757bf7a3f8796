// What the modbus-source adapter reads from its editor config and from msgs, checked once, with
// messages that name what is wrong. The register map rules themselves are lib/modbus's.
import type { NodeDef } from "node-red";
import {
  REPORT_MODES, csvToRawEntries, decodeRegisters, encodeBit, encodeRegisters, mapToCsv, mapToJson, validateMap,
  type MapEntry, type PlanOptions, type ReportMode, type ReportPolicy, type Value,
} from "../lib/modbus";
import { numberOr } from "./common/property";

export interface ModbusSourceDef extends NodeDef {
  connection: string;
  device: string;
  profile: string;
  unitId: string | number;
  /** Seconds. */
  period: string | number;
  map: unknown;
  reportMode: string;
  /** Absolute ("0.5") or percent ("2%"). */
  deadband: string;
  /** Seconds. */
  reportPeriod: string | number;
  maxGap: string | number;
  maxRegisters: string | number;
  /** Failed polls before the device is disconnected on the platform; 0: never. */
  disconnectAfter: string | number;
}

export interface SourceConfig {
  device: string;
  profile: string;
  unitId: number;
  periodMs: number;
  entries: MapEntry[];
  plan: PlanOptions;
  disconnectAfter: number;
}

function blank(v: unknown): boolean {
  return v === undefined || v === null || (typeof v === "string" && v.trim() === "");
}

/** The node's default report policy (keys without their own take it), or an error. */
export function defaultReport(mode: string, deadband: string, periodS: unknown): ReportPolicy | string {
  const m = (mode || "every-poll") as ReportMode;
  if (!REPORT_MODES.includes(m)) return `report must be one of ${REPORT_MODES.join(", ")}, got ${JSON.stringify(mode)}`;
  const policy: ReportPolicy = { mode: m };
  const d = (deadband ?? "").toString().trim();
  if (d !== "") {
    const pct = d.endsWith("%");
    const n = Number(pct ? d.slice(0, -1) : d);
    if (!(Number.isFinite(n) && n >= 0)) return `deadband must be a number >= 0 or a percentage like 2%, got ${JSON.stringify(deadband)}`;
    if (pct) policy.deadbandPercent = n;
    else policy.deadband = n;
  }
  if (m === "period" || m === "change-or-period") {
    const s = numberOr(periodS, NaN);
    if (!(s > 0)) return `report ${m} needs a report period in seconds, got ${JSON.stringify(periodS)}`;
    policy.periodMs = Math.round(s * 1000);
  }
  return policy;
}

/** The map as configured: an array, or its JSON text (hand-edited flows). */
function mapOf(raw: unknown): unknown {
  if (typeof raw !== "string") return raw;
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

/** Checks the editor config; a string is the reason the node cannot run. */
export function checkSource(def: ModbusSourceDef): SourceConfig | string {
  const device = (def.device ?? "").toString().trim();
  if (!device) return "no device name: set the name the device has on the platform";
  const unitId = numberOr(def.unitId, NaN);
  if (!(Number.isInteger(unitId) && unitId >= 1 && unitId <= 255)) {
    return `unit id must be an integer 1..255 (0 is broadcast, which no device answers), got ${JSON.stringify(def.unitId)}`;
  }
  const periodS = numberOr(def.period, NaN);
  if (!(periodS >= 0.001)) return `poll period must be a number of seconds >= 0.001, got ${JSON.stringify(def.period)}`;
  const { entries, errors } = validateMap(mapOf(def.map));
  if (errors.length) return `invalid register map: ${errors.join("; ")}`;
  const report = defaultReport(def.reportMode, def.deadband, def.reportPeriod);
  if (typeof report === "string") return report;
  const plan: PlanOptions = {};
  if (!blank(def.maxGap)) plan.maxGapRegisters = numberOr(def.maxGap, 10);
  if (!blank(def.maxRegisters)) plan.maxRegisters = numberOr(def.maxRegisters, 125);
  const disconnectAfter = numberOr(def.disconnectAfter, 0);
  if (!(Number.isInteger(disconnectAfter) && disconnectAfter >= 0)) return `"disconnect after" must be a whole number of failed polls (0: never), got ${JSON.stringify(def.disconnectAfter)}`;
  return {
    device,
    profile: (def.profile ?? "").toString().trim(),
    unitId,
    periodMs: Math.round(periodS * 1000),
    entries: report.mode === "every-poll" ? entries : entries.map((e) => (e.report ? e : { ...e, report })),
    plan,
    disconnectAfter,
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Values to write: `{key, value}` (rpc "set" params) or `{key: value, ...}`. */
export function setValues(payload: unknown, isRpc: boolean): Record<string, Value> {
  if (!isObject(payload)) {
    throw new Error(isRpc
      ? `set needs params {"key": "<key>", "value": <value>} or {"<key>": <value>, ...}, got ${JSON.stringify(payload)}`
      : `msg.payload must be an object {"<key>": <value>, ...}, got ${Array.isArray(payload) ? "an array" : typeof payload}`);
  }
  const names = Object.keys(payload);
  const pair = names.length === 2 && typeof payload.key === "string" && "value" in payload;
  const values: Record<string, unknown> = pair ? { [payload.key as string]: payload.value } : payload;
  for (const [k, v] of Object.entries(values)) {
    if (typeof v !== "number" && typeof v !== "boolean" && typeof v !== "string") {
      throw new Error(`value of "${k}" must be a number, boolean or string, got ${v === null ? "null" : typeof v}`);
    }
  }
  return values as Record<string, Value>;
}

/** Keys to read: "key", {key}, {keys: [...]} or [...]. */
export function getKeys(payload: unknown): string[] {
  const list = typeof payload === "string" ? [payload]
    : Array.isArray(payload) ? payload
    : isObject(payload) && typeof payload.key === "string" ? [payload.key]
    : isObject(payload) && Array.isArray(payload.keys) ? payload.keys
    : undefined;
  if (!list || list.length === 0 || !list.every((k) => typeof k === "string" && k !== "")) {
    throw new Error(`get needs params {"key": "<key>"} or {"keys": ["<key>", ...]}, got ${JSON.stringify(payload)}`);
  }
  return list as string[];
}

/** What the device now holds for each written key: the value after scaling, rounding to the register's resolution. */
export function effectiveValues(entries: readonly MapEntry[], values: Record<string, Value>): Record<string, Value> {
  const out: Record<string, Value> = {};
  for (const [k, v] of Object.entries(values)) {
    const e = entries.find((x) => x.key === k);
    if (!e) continue;
    out[k] = e.area === "coil" ? encodeBit(e, v) : decodeRegisters(e, encodeRegisters(e, v));
  }
  return out;
}

// ---- the editor's register map table (admin endpoint) -------------------------------------

export interface EditorMapRequest {
  rows?: unknown;
  csv?: string;
  json?: string;
  export?: "csv" | "json";
}

export interface EditorMapAnswer {
  /** The rows as given or imported, every one (the bad ones too). */
  rows: unknown[];
  /** Problems that belong to no row (CSV header, not an array…). */
  errors: string[];
  /** Problems of row i (0-based), without the "entry N (key): " prefix. */
  rowErrors: Record<number, string[]>;
  /** The export, when asked for. */
  text?: string;
}

/** Validates (and imports, exports) a map for the editor with the runtime's own rules. */
export function editorMap(req: EditorMapRequest): EditorMapAnswer {
  const errors: string[] = [];
  let rows: unknown[] = [];
  if (typeof req.csv === "string") {
    const r = csvToRawEntries(req.csv);
    errors.push(...r.errors);
    rows = r.raws;
  } else if (typeof req.json === "string") {
    try {
      const parsed: unknown = JSON.parse(req.json);
      if (Array.isArray(parsed)) rows = parsed;
      else errors.push("register map JSON must be an array of entries");
    } catch (err) {
      errors.push(`register map is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
    }
  } else if (Array.isArray(req.rows)) rows = req.rows;
  else errors.push("register map must be an array of entries");

  const rowErrors: Record<number, string[]> = {};
  const v = validateMap(rows);
  for (const e of v.errors) {
    const m = /^entry (\d+)/.exec(e);
    if (!m) { if (rows.length > 0 || errors.length === 0) errors.push(e); continue; }
    const i = Number(m[1]) - 1;
    const raw = rows[i];
    const key = isObject(raw) && typeof raw.key === "string" ? raw.key : "";
    const prefix = `entry ${i + 1}${key ? ` (${key})` : ""}: `;
    (rowErrors[i] = rowErrors[i] ?? []).push(e.startsWith(prefix) ? e.slice(prefix.length) : e);
  }
  const answer: EditorMapAnswer = { rows, errors, rowErrors };
  const valid = v.errors.length === 0;
  if (req.export === "csv") answer.text = mapToCsv(valid ? v.entries : (rows.filter(isObject) as unknown as MapEntry[]));
  if (req.export === "json") answer.text = valid ? mapToJson(v.entries) : JSON.stringify(rows, null, 2);
  return answer;
}
