// What a flow sends a managed Watson gateway's device management as: event-out msgs whose event
// is "location", "log" or "errorCode" (shared/protocols/watson.md, "Managed gateway"), checked and
// turned into the request's `d` here. msg.payload null clears the log or the error codes.
//   location   {latitude, longitude, elevation?, accuracy?, measuredDateTime?}  (numbers; the time ISO 8601 or ms, default now)
//   log        "text" | {message, severity?: 0|1|2|"info"|"warning"|"error", data?: string, timestamp?}   null: clear the log
//   errorCode  integer | {errorCode: integer}                                   null: clear the error codes
import { serialise } from "./serialise";

/** The event names that are device management requests on a managed gateway (not events). */
export const DM_EVENTS: ReadonlySet<string> = new Set(["location", "log", "errorCode"]);

/** A device management request of a device: its topic after iotdevice-1/type/T/id/D/, and `d` (JSON) if it has one. */
export interface DmUpdate {
  op: string;
  d?: string;
}

const LOCATION_KEYS = new Set(["latitude", "longitude", "elevation", "accuracy", "measuredDateTime"]);
const SEVERITY: Readonly<Record<string, number>> = { info: 0, warning: 1, error: 2 };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);

function time(v: unknown, what: string, now: number): string {
  if (v === undefined) return new Date(now).toISOString();
  if (typeof v === "number" && Number.isFinite(v)) return new Date(v).toISOString();
  if (typeof v === "string" && !Number.isNaN(Date.parse(v))) return new Date(Date.parse(v)).toISOString();
  throw new Error(`${what} must be an ISO 8601 time or milliseconds since 1970, got ${JSON.stringify(v)}`);
}

function location(p: unknown, now: number): DmUpdate {
  if (!isObject(p)) throw new Error('the "location" update needs msg.payload {latitude, longitude, elevation?, accuracy?, measuredDateTime?}');
  for (const k of Object.keys(p)) if (!LOCATION_KEYS.has(k)) throw new Error(`the "location" update has no field "${k}": use latitude, longitude, elevation, accuracy, measuredDateTime`);
  for (const k of ["latitude", "longitude", "elevation", "accuracy"]) {
    const v = p[k];
    if ((k === "latitude" || k === "longitude" || v !== undefined) && (typeof v !== "number" || !Number.isFinite(v))) throw new Error(`the "location" update's ${k} must be a number${k === "latitude" || k === "longitude" ? "" : " (or absent)"}`);
  }
  if ((p.latitude as number) < -90 || (p.latitude as number) > 90 || (p.longitude as number) < -180 || (p.longitude as number) > 180) throw new Error('the "location" update needs latitude in -90..90 and longitude in -180..180 (decimal degrees)');
  return { op: "device/update/location", d: serialise({ ...p, measuredDateTime: time(p.measuredDateTime, "measuredDateTime", now) }, "the location") };
}

function log(p: unknown, now: number): DmUpdate {
  if (p === null) return { op: "clear/diag/log" };
  const entry = typeof p === "string" ? { message: p } : p;
  if (!isObject(entry) || typeof entry.message !== "string") throw new Error('the "log" entry needs msg.payload "text" or {message, severity?, data?, timestamp?} (null clears the log)');
  const sev = entry.severity === undefined ? 0 : typeof entry.severity === "string" ? SEVERITY[entry.severity] : entry.severity;
  if (sev !== 0 && sev !== 1 && sev !== 2) throw new Error(`the "log" entry's severity must be 0 (info), 1 (warning) or 2 (error), got ${JSON.stringify(entry.severity)}`);
  if (entry.data !== undefined && typeof entry.data !== "string") throw new Error('the "log" entry\'s data must be a string (Watson IoT stores it as base64 text)');
  const d: Record<string, unknown> = { message: entry.message, timestamp: time(entry.timestamp, "timestamp", now), severity: sev };
  if (entry.data !== undefined) d.data = entry.data;
  return { op: "add/diag/log", d: serialise(d, "the log entry") };
}

function errorCode(p: unknown): DmUpdate {
  if (p === null) return { op: "clear/diag/errorCodes" };
  const code = isObject(p) ? p.errorCode : p;
  if (typeof code !== "number" || !Number.isInteger(code)) throw new Error('the "errorCode" needs msg.payload an integer or {errorCode: integer} (null clears the error codes)');
  return { op: "add/diag/errorCodes", d: JSON.stringify({ errorCode: code }) };
}

/** The device management request an event of a managed gateway stands for; throws an Error a user can act on. */
export function dmUpdate(method: string, params: unknown, now = Date.now()): DmUpdate {
  if (method === "location") return location(params, now);
  if (method === "log") return log(params, now);
  return errorCode(params);
}

/**
 * The rc and message of the flow's answer to a device action (msg.payload of rpc-response): 202
 * (accepted), 500 (failed) or 501 (not implemented), as a number or {rc, message}; an automatic
 * answer {error} (rpc-in's auto-answer) is a 500 with that message.
 */
export function actionAnswer(data: unknown): { rc: number; message?: string } | string {
  if (isObject(data) && typeof data.error === "string" && data.rc === undefined) return { rc: 500, message: data.error };
  const rc = isObject(data) ? data.rc : data;
  const message = isObject(data) ? data.message : undefined;
  if (rc !== 202 && rc !== 500 && rc !== 501) return `the answer to a device action must be 202 (accepted), 500 (failed) or 501 (not implemented), as msg.payload or {rc, message}, got ${JSON.stringify(data)}`;
  if (message !== undefined && typeof message !== "string") return "the answer's message must be a string";
  return message === undefined ? { rc } : { rc, message };
}
