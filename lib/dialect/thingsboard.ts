// ThingsBoard's gateway MQTT API, as the server really accepts it (shared/protocols/thingsboard.md).
import type { Downlink, Uplink, Value, Values } from "../records";
import type { ConnectOptions, Credentials, Decoded, Dialect, DialectFactory } from "./types";
import { encode, prepare } from "./thingsboard-encode";
import { T } from "./thingsboard-topics";
import { deviceProblem, idProblem, pointProblem, uplinkProblem } from "./validate";

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function parse(payload: Buffer): unknown {
  try {
    return JSON.parse(payload.toString("utf8"));
  } catch {
    return undefined;
  }
}

/** The request id a topic ends with: decimal digits of a safe integer ("1e+300", "-3", "1.5" are not ids). */
function idFrom(topic: string, prefix: string): number {
  const text = topic.slice(prefix.length);
  if (!/^\d{1,16}$/.test(text)) return NaN;
  const id = Number(text);
  return Number.isSafeInteger(id) ? id : NaN;
}

/** A name the platform sends, checked as the flow's are: one the gateway could not send back is not taken. */
function nameProblem(name: unknown, what: string): string | null {
  const p = deviceProblem(name);
  return p ? `${what}: ${p}` : null;
}

function decodeDownlink(topic: string, body: unknown): Downlink | string {
  if (topic.startsWith(T.meRpcRequest)) {
    const id = idFrom(topic, T.meRpcRequest);
    if (Number.isNaN(id) || !isObject(body) || typeof body.method !== "string") return "expected {method, params} and a numeric request id";
    if (body.method === "gateway_device_renamed") {
      const names = isObject(body.params) ? Object.entries(body.params) : [];
      if (names.length !== 1 || typeof names[0][1] !== "string") return 'gateway_device_renamed expects params {"old name": "new name"}';
      const bad = nameProblem(names[0][0], "gateway_device_renamed's old device name") ?? nameProblem(names[0][1], "gateway_device_renamed's new device name");
      if (bad) return bad;
      return { kind: "deviceRenamed", id, from: names[0][0], to: names[0][1] as string };
    }
    if (body.method === "gateway_device_deleted") {
      if (typeof body.params !== "string") return "gateway_device_deleted expects the device name as params";
      const bad = nameProblem(body.params, "gateway_device_deleted's device name");
      if (bad) return bad;
      return { kind: "deviceDeleted", id, device: body.params };
    }
    return { kind: "gatewayRpcRequest", id, method: body.method, params: body.params };
  }
  if (topic.startsWith(T.meRpcResponse)) {
    const id = idFrom(topic, T.meRpcResponse);
    if (Number.isNaN(id)) return "expected a numeric request id in the topic";
    return { kind: "gatewayRpcResponse", id, data: body };
  }
  if (!isObject(body)) return "expected a JSON object";
  const device = body.device;
  if (typeof device !== "string") return 'expected a "device" name';
  const badName = nameProblem(device, '"device"');
  if (badName) return badName;
  switch (topic) {
    case T.attributes: {
      if (!isObject(body.data)) return 'expected "data" to be an object';
      const { deleted, ...values } = body.data;
      const gone = Array.isArray(deleted) ? deleted.filter((k): k is string => typeof k === "string") : [];
      return { kind: "attributeUpdate", device, values: values as Values, deleted: gone };
    }
    case T.attributeResponse: {
      if (typeof body.id !== "number") return 'expected a numeric "id"';
      if (idProblem(body.id)) return `"id": ${idProblem(body.id)}`;
      const r: Downlink = { kind: "attributeResponse", id: body.id, device };
      if ("values" in body && isObject(body.values)) r.values = body.values as Values;
      else if ("value" in body) r.value = body.value as Value;
      return r;
    }
    case T.rpc: {
      const d = body.data;
      if (!isObject(d) || typeof d.id !== "number" || typeof d.method !== "string") return 'expected "data" with a numeric "id" and a "method"';
      if (idProblem(d.id)) return `"data.id": ${idProblem(d.id)}`;
      return { kind: "rpcRequest", device, id: d.id, method: d.method, params: d.params };
    }
    case T.disconnect:
      return { kind: "deviceDisconnected", device, reason: typeof body.reason === "number" ? body.reason : 0 };
    default:
      return "unknown topic";
  }
}

export const thingsboard: Dialect = {
  platform: "thingsboard",
  subscriptions: [T.attributes, T.attributeResponse, T.rpc, T.meRpcRequest + "+", T.meRpcResponse + "+"],
  defaultMaxPayload: 65536,
  hasGatewayRpc: true,
  telemetryPieces: "ts-values",

  connectOptions(c: Credentials): ConnectOptions {
    if (c.accessToken) return { username: c.accessToken, clientId: c.clientId };
    return { clientId: c.clientId, username: c.username, password: c.password };
  },

  validate(u: Uplink): string | null {
    switch (u.kind) {
      case "event":
      case "gatewayEvent":
        return "ThingsBoard has no events: send them as telemetry (telemetry-out) under a key of your choice";
      case "gatewayTelemetry":
        return uplinkProblem({ kind: "telemetry", device: "gateway", points: u.points });
      case "gatewayAttributes":
        return uplinkProblem({ kind: "attributes", device: "gateway", values: u.values });
      case "downlinkAnswer":
        return "ThingsBoard has no such answer";
      default:
        return uplinkProblem(u);
    }
  },

  prepare,
  encode,

  decode(topic: string, payload: Buffer): Decoded {
    const known = topic.startsWith("v1/gateway/") || topic.startsWith("v1/devices/me/");
    if (!known) return null;
    const body = parse(payload);
    if (body === undefined) return { error: `invalid JSON on ${topic}` };
    const d = decodeDownlink(topic, body);
    return typeof d === "string" ? { error: `unexpected message on ${topic}: ${d}` } : d;
  },
};

/** ThingsBoard's gateway topics name no gateway (the session is the gateway): one dialect serves all. */
export const createThingsBoardDialect: DialectFactory = () => thingsboard;
