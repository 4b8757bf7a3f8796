// Pure parsers for uplink payloads, written from the server's JSON converter rules
// (protocols/thingsboard.md): what is accepted, what is skipped with a warning, and what makes
// the whole message malformed (which on MQTT 3.1.1 costs the gateway its connection).
import { ClaimRecord } from './types';

export type Parsed<T> = { ok: true; value: T; warnings: string[] } | { ok: false; error: string };

export type JsonObject = Record<string, unknown>;

function ok<T>(value: T, warnings: string[] = []): Parsed<T> {
  return { ok: true, value, warnings };
}
function bad<T>(error: string): Parsed<T> {
  return { ok: false, error };
}

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function parseJsonObject(payload: Buffer): Parsed<JsonObject> {
  let v: unknown;
  try {
    v = JSON.parse(payload.toString('utf8'));
  } catch {
    return bad('unparsable JSON');
  }
  if (!isObject(v)) return bad(`payload must be a JSON object, got ${Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v}`);
  return ok(v);
}

/** The server reads names with getAsString: any primitive works, objects and null do not. */
function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

function int(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) return Number(v);
  return undefined;
}

function deviceName(obj: JsonObject): string | undefined {
  const name = str(obj.device);
  return name ? name : undefined;
}

export interface ConnectMsg {
  device: string;
  type?: string;
}

export function parseConnect(obj: JsonObject): Parsed<ConnectMsg> {
  const device = deviceName(obj);
  if (!device) return bad('"device" is missing or not a string');
  if (obj.type === undefined) return ok({ device });
  const type = str(obj.type);
  if (type === undefined) return bad('"type" must be a string');
  return ok({ device, type });
}

export function parseDisconnect(obj: JsonObject): Parsed<{ device: string }> {
  const device = deviceName(obj);
  if (!device) return bad('"device" is missing or not a string');
  return ok({ device });
}

export interface ParsedPoint {
  ts: number;
  values: Record<string, unknown>;
  serverTs: boolean;
}

/** null values are ignored by the server; other values are kept as sent. */
function dropNulls(values: Record<string, unknown>): Record<string, unknown> {
  for (const k in values) {
    if (values[k] === null) {
      const copy: Record<string, unknown> = {};
      for (const k2 in values) if (values[k2] !== null) copy[k2] = values[k2];
      return copy;
    }
  }
  return values;
}

/** One element of a device's telemetry array: {ts, values} (both keys) or flat {k:v}. */
export function parsePoint(el: unknown, serverNow: number): ParsedPoint | string {
  if (!isObject(el)) return 'telemetry element must be an object';
  if ('ts' in el && 'values' in el) {
    // The server reads ts as a long (Gson getAsLong): a fractional number is truncated.
    const ts = typeof el.ts === 'number' && Number.isFinite(el.ts) ? Math.trunc(el.ts) : int(el.ts);
    if (ts === undefined) return '"ts" must be a number (ms)';
    if (!isObject(el.values)) return '"values" must be an object';
    return { ts, values: dropNulls(el.values), serverTs: false };
  }
  return { ts: serverNow, values: dropNulls(el), serverTs: true };
}

export interface DeviceTelemetry {
  device: string;
  points: ParsedPoint[];
}

export function parseGatewayTelemetry(obj: JsonObject, serverNow: number): Parsed<DeviceTelemetry[]> {
  const out: DeviceTelemetry[] = [];
  const warnings: string[] = [];
  for (const device in obj) {
    const arr = obj[device];
    if (!Array.isArray(arr)) {
      warnings.push(`telemetry for "${device}" skipped: value must be an array`);
      continue;
    }
    const points: ParsedPoint[] = new Array(arr.length);
    for (let i = 0; i < arr.length; i++) {
      const p = parsePoint(arr[i], serverNow);
      if (typeof p === 'string') return bad(`"${device}"[${i}]: ${p}`);
      points[i] = p;
    }
    out.push({ device, points });
  }
  if (out.length === 0) return bad('no device value is an array');
  return ok(out, warnings);
}

/** v1/devices/me/telemetry: an object, or an array of elements. */
export function parseDeviceTelemetry(v: unknown, serverNow: number): Parsed<ParsedPoint[]> {
  const arr = Array.isArray(v) ? v : [v];
  const points: ParsedPoint[] = [];
  for (const el of arr) {
    const p = parsePoint(el, serverNow);
    if (typeof p === 'string') return bad(p);
    points.push(p);
  }
  return ok(points);
}

export function parseGatewayAttributes(obj: JsonObject): Parsed<Array<{ device: string; values: JsonObject }>> {
  const out: Array<{ device: string; values: JsonObject }> = [];
  const warnings: string[] = [];
  for (const device in obj) {
    const values = obj[device];
    if (!isObject(values)) {
      warnings.push(`attributes for "${device}" skipped: value must be an object`);
      continue;
    }
    out.push({ device, values: dropNulls(values) });
  }
  return ok(out, warnings);
}

export interface AttributeRequestMsg {
  id: number;
  device: string;
  client: boolean;
  /** undefined = none given; [] = all */
  keys: string[];
  single: boolean;
}

export function parseAttributeRequest(obj: JsonObject): Parsed<AttributeRequestMsg> {
  const id = int(obj.id);
  if (id === undefined) return bad('"id" is missing or not an integer');
  const device = deviceName(obj);
  if (!device) return bad('"device" is missing or not a string');
  let client: boolean;
  if (typeof obj.client === 'boolean') client = obj.client;
  else if (obj.client === 'true' || obj.client === 'false') client = obj.client === 'true';
  else return bad('"client" is missing or not a boolean');
  if ('key' in obj) {
    const key = str(obj.key);
    if (key === undefined) return bad('"key" must be a string');
    return ok({ id, device, client, keys: [key], single: true });
  }
  if (!Array.isArray(obj.keys)) return bad('"key" or "keys" is required');
  const keys: string[] = [];
  for (const k of obj.keys) {
    const s = str(k);
    if (s === undefined) return bad('"keys" must hold strings');
    keys.push(s);
  }
  return ok({ id, device, client, keys, single: false });
}

export interface RpcReplyMsg {
  device: string;
  id: number;
  data: unknown;
}

export function parseRpcReply(obj: JsonObject): Parsed<RpcReplyMsg> {
  const device = deviceName(obj);
  if (!device) return bad('"device" is missing or not a string');
  const id = int(obj.id);
  if (id === undefined) return bad('"id" is missing or not an integer');
  if (!('data' in obj)) return bad('"data" is missing');
  return ok({ device, id, data: obj.data });
}

export function parseClaim(obj: JsonObject): Parsed<Array<{ device: string; claim: ClaimRecord }>> {
  const out: Array<{ device: string; claim: ClaimRecord }> = [];
  const warnings: string[] = [];
  for (const device in obj) {
    const v = obj[device];
    if (!isObject(v)) {
      warnings.push(`claim for "${device}" skipped: value must be an object`);
      continue;
    }
    const claim: ClaimRecord = {};
    if (v.secretKey !== undefined) {
      const s = str(v.secretKey);
      if (s === undefined) return bad(`"${device}".secretKey must be a string`);
      claim.secretKey = s;
    }
    if (v.durationMs !== undefined) {
      const d = int(v.durationMs);
      if (d === undefined) return bad(`"${device}".durationMs must be an integer`);
      claim.durationMs = d;
    }
    out.push({ device, claim });
  }
  return ok(out, warnings);
}

export function parseClientRpcRequest(obj: JsonObject): Parsed<{ method: string; params: unknown }> {
  const method = str(obj.method);
  if (!method) return bad('"method" is missing');
  return ok({ method, params: obj.params });
}
