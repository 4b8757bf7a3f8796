// ThingsBoard's uplinks serialised once, when they are accepted: each piece as it will be sent,
// with its UTF-8 bytes and the data points the server counts in it (thingsboard-encode.ts merges
// the pieces of a batch into publishes). A value that cannot be sent fails here, with why.
import type { TelemetryPoint, Uplink, Values } from "../records";
import { OnePoint } from "./one-point";
import type { Prepared } from "./types";
import { utf8Length } from "./json-batch";
import { flatJson, flatKeys, numberJson, serialise } from "./serialise";

/** The values as they will be sent: a toJSON at the top may turn them into anything. */
function sentValues(values: Values, of: string | number): Values {
  if (typeof (values as { toJSON?: unknown }).toJSON !== "function") return values;
  const what = typeof of === "number" ? `the values of point ${of}` : of;
  const back: unknown = JSON.parse(serialise(values, what));
  if (typeof back !== "object" || back === null || Array.isArray(back) || Object.keys(back).length === 0) {
    throw new Error(`${what} must serialise to an object of {key: value}, its toJSON gave ${Array.isArray(back) ? "an array" : JSON.stringify(back)}`);
  }
  return back as Values;
}

/** Whether JSON.stringify would call a toJSON on the value (it may then give anything, or nothing). */
function hasToJSON(v: unknown): boolean {
  return typeof v === "object" && v !== null && typeof (v as { toJSON?: unknown }).toJSON === "function";
}

/** Keys of `{key: value}`, or -1 when a value has a toJSON (then it is serialised key by key). */
function plainKeys(values: Values): number {
  let keys = 0;
  for (const k in values) {
    keys++;
    if (hasToJSON(values[k])) return -1;
  }
  return keys;
}

/** Key by key, so that a value that serialises to nothing is an error instead of a key that silently vanishes. */
function membersJson(values: Values): string {
  const members: string[] = [];
  for (const k of Object.keys(values)) members.push(`${JSON.stringify(k)}:${serialise(values[k], `the value of "${k}"`)}`);
  return `{${members.join(",")}}`;
}

/** The key count and UTF-8 bytes of the point `pointJson` serialised last: its other results, without an object per point. */
let lastKeys = 0;
let lastBytes = 0;

/**
 * One point as sent: flat values written directly, else one JSON.stringify per values object when
 * no value has a toJSON (what was validated is then exactly what it writes), else key by key.
 */
function pointJson(point: TelemetryPoint, index: number): string {
  const values = sentValues(point.values, index);
  // Flat values (numbers, booleans, null: most telemetry) are written directly, as JSON.stringify would.
  let v = flatJson(values);
  let keys = flatKeys;
  if (v === undefined) {
    keys = plainKeys(values);
    if (keys >= 0) {
      v = serialise(values, "the values");
    } else {
      v = membersJson(values);
      keys = Object.keys(values).length;
    }
  }
  // ts is a finite number (validated): numberJson writes what JSON.stringify would, faster. The
  // pieces are flattened into one string by utf8Length below, and the point's text is dropped
  // once it is in a publish's buffer.
  const s = point.ts === undefined ? v : '{"ts":' + numberJson(point.ts) + ',"values":' + v + "}";
  lastKeys = keys;
  lastBytes = utf8Length(s);
  return s;
}

function whole(body: string): Prepared {
  return { json: [body], bytes: [utf8Length(body)] };
}

export function prepare(u: Uplink): Prepared {
  switch (u.kind) {
    case "connect":
      return whole(serialise(u.profile ? { device: u.device, type: u.profile } : { device: u.device }, "the device announcement"));
    case "disconnect":
      return whole(serialise({ device: u.device }, "the disconnect"));
    case "attributeRequest": {
      const scope = { id: u.id, device: u.device, client: u.scope === "client" };
      return whole(serialise(u.keys.length === 1 ? { ...scope, key: u.keys[0] } : { ...scope, keys: u.keys }, "the attribute request"));
    }
    case "rpcResponse":
      return whole(`{"device":${serialise(u.device, "the device name")},"id":${serialise(u.id, "the RPC id")},"data":${serialise(u.data ?? null, "the RPC answer")}}`);
    case "gatewayRpcRequest":
      return whole(u.params === undefined ? serialise({ method: u.method }, "the RPC") : `{"method":${serialise(u.method, "the RPC method")},"params":${serialise(u.params, "the RPC params")}}`);
    case "gatewayRpcResponse":
      return whole(serialise(u.data ?? null, "the RPC answer"));
    case "telemetry": {
      const n = u.points.length;
      if (n === 1) {
        // One point (most msgs): three packed one-element arrays, nothing else.
        const s = pointJson(u.points[0], 0);
        return new OnePoint(s, lastBytes, lastKeys);
      }
      const p: Required<Omit<Prepared, "fields">> = { json: new Array<string>(n), bytes: new Array<number>(n), points: new Array<number>(n), total: 0 };
      for (let i = 0; i < n; i++) {
        const s = pointJson(u.points[i], i);
        p.json[i] = s;
        p.bytes[i] = lastBytes;
        p.points[i] = lastKeys;
        p.total += lastKeys;
      }
      return p;
    }
    case "attributes": {
      const values = sentValues(u.values, "the attributes");
      const p: Required<Omit<Prepared, "total">> = { json: [], bytes: [], fields: [], points: [] };
      for (const k of Object.keys(values)) {
        const s = `${JSON.stringify(k)}:${serialise(values[k], `the value of "${k}"`)}`;
        p.json.push(s);
        p.bytes.push(utf8Length(s));
        p.fields.push(k);
        p.points.push(1);
      }
      return p;
    }
    case "claim": {
      const body: { secretKey?: string; durationMs?: number } = {};
      if (u.secretKey !== undefined) body.secretKey = u.secretKey;
      if (u.durationMs !== undefined) body.durationMs = u.durationMs;
      return whole(serialise(body, "the claim"));
    }
    // The gateway device's own data (v1/devices/me): one body, as its device's part would be.
    case "gatewayTelemetry": {
      const t = prepare({ kind: "telemetry", device: "me", points: u.points });
      const body = `[${t.json.join(",")}]`;
      return { json: [body], bytes: [utf8Length(body)], points: [(t.points ?? []).reduce((a, b) => a + b, 0)] };
    }
    case "gatewayAttributes": {
      const a = prepare({ kind: "attributes", device: "me", values: u.values });
      const body = `{${a.json.join(",")}}`;
      return { json: [body], bytes: [utf8Length(body)], points: [a.json.length] };
    }
    default:
      throw new Error(`ThingsBoard has no ${u.kind} uplink`); // validate refuses it first
  }
}
