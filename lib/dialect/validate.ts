// Checks shared by every dialect: what a platform would store, and what would make it drop the
// message (or, on ThingsBoard over MQTT 3.1.1, the whole gateway connection).
import type { TelemetryPoint, Uplink, Values } from "../records";

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number" && !Number.isFinite(v)) return String(v);
  return typeof v;
}

/** A value the platform can store: finite numbers, strings, booleans, null, nested JSON. */
function valueProblem(key: string, v: unknown, depth: number): string | null {
  switch (typeof v) {
    case "string":
    case "boolean":
      return null;
    case "number":
      return Number.isFinite(v) ? null : `value of "${key}" must be a finite number, got ${describe(v)}`;
    case "object":
      if (v === null) return null;
      if (depth > 16) return `value of "${key}" is nested too deeply`;
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) {
          const p = valueProblem(`${key}[${i}]`, v[i], depth + 1);
          if (p) return p;
        }
        return null;
      }
      for (const k of Object.keys(v as object)) {
        const p = valueProblem(`${key}.${k}`, (v as Record<string, unknown>)[k], depth + 1);
        if (p) return p;
      }
      return null;
    default:
      return `value of "${key}" must be a number, string, boolean or JSON object, got ${describe(v)}`;
  }
}

export function valuesProblem(values: unknown, what: string): string | null {
  return valuesCheck(values, what, -1);
}

function nameOf(what: string, index: number): string {
  return index < 0 ? what : `point ${index}: values`;
}

/** `valuesProblem` of the values of point `index` (≥ 0; else of `what`): no string built unless it fails. */
function valuesCheck(values: unknown, what: string, index: number): string | null {
  if (typeof values !== "object" || values === null || Array.isArray(values)) {
    return `${nameOf(what, index)} must be an object of {key: value}, got ${describe(values)}`;
  }
  // for…in, not Object.keys: no array per values object on the hot path (own keys: a plain object's are all)
  let any = false;
  for (const k in values) {
    if (!Object.prototype.hasOwnProperty.call(values, k)) continue;
    any = true;
    if (k.length === 0) return `${nameOf(what, index)} has an empty key`;
    const p = valueProblem(k, (values as Values)[k], 0);
    if (p) return p;
  }
  return any ? null : `${nameOf(what, index)} has no values`;
}

/** Why a telemetry point cannot be sent, or null; its messages are built only when one is needed. */
export function pointProblem(point: TelemetryPoint, index: number): string | null {
  if (typeof point !== "object" || point === null) return `point ${index} must be an object, got ${describe(point)}`;
  if (point.ts !== undefined) {
    if (typeof point.ts !== "number" || !Number.isFinite(point.ts) || point.ts < 0) {
      return `point ${index}: ts must be a number of milliseconds since 1970, got ${describe(point.ts)}`;
    }
  }
  return valuesCheck(point.values, "", index);
}

export function deviceProblem(device: unknown): string | null {
  if (typeof device !== "string" || device.trim().length === 0) {
    return `device name must be a non-empty string, got ${device === "" ? "an empty string" : describe(device)}`;
  }
  if (device.length > 255) return `device name is longer than 255 characters`;
  return null;
}

/** A device profile (ThingsBoard device type): absent, or a non-empty string. */
export function profileProblem(profile: unknown): string | null {
  if (profile === undefined || (typeof profile === "string" && profile.length > 0)) return null;
  return `device profile must be a non-empty string, got ${profile === "" ? "an empty string" : describe(profile)}`;
}

/** A request or RPC id as the platform's JSON carries it: a safe integer, not negative. */
export function idProblem(id: unknown): string | null {
  return typeof id === "number" && Number.isSafeInteger(id) && id >= 0 ? null : `the id must be a whole number from 0 to 2^53-1, got ${typeof id === "number" ? String(id) : describe(id)}`;
}

/** Every element of an array is a non-empty string (a sparse array's holes count as missing). */
export function keysProblem(keys: unknown): string | null {
  if (!Array.isArray(keys)) return "attribute keys must be an array of non-empty strings";
  for (let i = 0; i < keys.length; i++) {
    const k: unknown = keys[i];
    if (typeof k !== "string" || k.length === 0) return "attribute keys must be non-empty strings";
  }
  return null;
}

/** Platform-neutral checks of an uplink's shape. */
export function uplinkProblem(u: Uplink): string | null {
  if ("device" in u) {
    const p = deviceProblem(u.device);
    if (p) return p;
  }
  switch (u.kind) {
    case "connect":
      return profileProblem(u.profile);
    case "telemetry": {
      if (!Array.isArray(u.points) || u.points.length === 0) return "telemetry has no points";
      for (let i = 0; i < u.points.length; i++) {
        const p = pointProblem(u.points[i], i);
        if (p) return p;
      }
      return null;
    }
    case "attributes":
      return valuesProblem(u.values, "attributes");
    case "attributeRequest":
      return idProblem(u.id) ?? keysProblem(u.keys);
    case "rpcResponse":
    case "gatewayRpcResponse":
      return idProblem(u.id);
    case "claim":
      if (u.secretKey !== undefined && typeof u.secretKey !== "string") return "claim secret key must be a string";
      if (u.durationMs !== undefined && (!Number.isInteger(u.durationMs) || u.durationMs <= 0)) {
        return `claim duration must be a positive whole number of ms, got ${describe(u.durationMs)}`;
      }
      return null;
    case "gatewayRpcRequest":
      if (idProblem(u.id)) return idProblem(u.id);
      return typeof u.method === "string" && u.method.length > 0 ? null : "RPC method must be a non-empty string";
    default:
      return null;
  }
}
