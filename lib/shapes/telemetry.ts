// The payload forms telemetry-out accepts, turned into telemetry uplinks. Pure and
// platform-neutral: what reaches the wire is always the dialect's array form.
import type { TelemetryPoint, Uplink, Values } from "../records";

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);
}

/** How a msg property is described in an error: "array", "buffer", "null", or its typeof. */
export function kindOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (Buffer.isBuffer(v)) return "buffer";
  return typeof v;
}

/** `{ts, values}` exactly (own keys, counted without an array per point): anything else is a flat `{key: value}` point. */
function isTimed(v: Record<string, unknown>): boolean {
  if (!("ts" in v) || !("values" in v)) return false;
  let n = 0;
  for (const k in v) if (Object.prototype.hasOwnProperty.call(v, k) && ++n > 2) return false;
  return n === 2 && Object.prototype.hasOwnProperty.call(v, "ts") && Object.prototype.hasOwnProperty.call(v, "values");
}

function point(v: unknown, defaultTs: number | undefined, index: number): TelemetryPoint | string {
  if (!isPlainObject(v)) return `element ${index} must be {key: value} or {ts, values}, got ${kindOf(v)}`;
  if (isTimed(v)) return v as unknown as TelemetryPoint; // already {ts, values}: no copy per point (validated as any point is)
  return defaultTs === undefined ? { values: v as Values } : { ts: defaultTs, values: v as Values };
}

function points(payload: unknown, defaultTs: number | undefined): TelemetryPoint[] | string {
  if (!Array.isArray(payload)) {
    // The common case, one point: no list to wrap it in.
    const p = point(payload, defaultTs, 0);
    return typeof p === "string" ? "msg.payload must be an object of values or an array of {ts, values}, got " + kindOf(payload) : [p];
  }
  const list = payload;
  if (list.length === 0) return "msg.payload is an empty array";
  const out: TelemetryPoint[] = [];
  for (let i = 0; i < list.length; i++) {
    const p = point(list[i], defaultTs, i);
    if (typeof p === "string") return Array.isArray(payload) ? `msg.payload ${p}` : "msg.payload must be an object of values or an array of {ts, values}, got " + kindOf(payload);
    out.push(p);
  }
  return out;
}

/**
 * `{key: value}` → one point at `defaultTs`; `{ts, values}`; an array of those; or, with no
 * device given, `{"Device A": [...], "Device B": [...]}`. Returns the uplinks, or what is wrong.
 */
export function telemetryUplinks(payload: unknown, device: string | undefined, defaultTs: number | undefined): Uplink[] | string {
  if (device !== undefined) {
    const p = points(payload, defaultTs);
    return typeof p === "string" ? p : [{ kind: "telemetry", device, points: p }];
  }
  const none = 'no device: set one in the node or msg.device, or send {"Device A": [...], "Device B": [...]} in msg.payload';
  if (!isPlainObject(payload)) return none;
  // One pass (no arrays of keys, values and entries per msg): every member must be an array.
  const out: Uplink[] = [];
  let problem: string | undefined;
  for (const name in payload) {
    if (!Object.prototype.hasOwnProperty.call(payload, name)) continue;
    const list = payload[name];
    if (!Array.isArray(list)) return none;
    if (problem !== undefined) continue;
    const p = points(list, defaultTs);
    if (typeof p === "string") problem = p.replace("msg.payload", `msg.payload["${name}"]`);
    else out.push({ kind: "telemetry", device: name, points: p });
  }
  if (out.length === 0 && problem === undefined) return none;
  return problem ?? out;
}
