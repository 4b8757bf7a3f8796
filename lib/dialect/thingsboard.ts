// ThingsBoard's gateway MQTT API, as the server really accepts it (shared/protocols/thingsboard.md).
import type { Downlink, Uplink, Value, Values } from "../records";
import type { ConnectOptions, Credentials, Decoded, Dialect, DialectFactory, Encoded, Publish, Refusal } from "./types";
import { JsonBatch, memberOverhead, utf8Length, type Key, type MemberShape } from "./json-batch";
import { uplinkProblem } from "./validate";

const T = {
  connect: "v1/gateway/connect",
  disconnect: "v1/gateway/disconnect",
  telemetry: "v1/gateway/telemetry",
  attributes: "v1/gateway/attributes",
  attributeRequest: "v1/gateway/attributes/request",
  attributeResponse: "v1/gateway/attributes/response",
  rpc: "v1/gateway/rpc",
  claim: "v1/gateway/claim",
  meTelemetry: "v1/devices/me/telemetry",
  meAttributes: "v1/devices/me/attributes",
  meRpcRequest: "v1/devices/me/rpc/request/",
  meRpcResponse: "v1/devices/me/rpc/response/",
} as const;

type Mergeable = "telemetry" | "attributes" | "claim";
const SHAPES: Record<Mergeable, MemberShape> = { telemetry: "array", attributes: "object", claim: "value" };

function json(topic: string, body: unknown, index: number): Publish {
  return { topic, payload: Buffer.from(JSON.stringify(body)), carries: [index] };
}

function single(u: Uplink, index: number): Publish | null {
  switch (u.kind) {
    case "connect":
      return json(T.connect, u.profile ? { device: u.device, type: u.profile } : { device: u.device }, index);
    case "disconnect":
      return json(T.disconnect, { device: u.device }, index);
    case "attributeRequest": {
      const scope = { id: u.id, device: u.device, client: u.scope === "client" };
      return json(T.attributeRequest, u.keys.length === 1 ? { ...scope, key: u.keys[0] } : { ...scope, keys: u.keys }, index);
    }
    case "rpcResponse":
      return json(T.rpc, { device: u.device, id: u.id, data: u.data ?? null }, index);
    case "gatewayRpcRequest":
      return json(T.meRpcRequest + u.id, u.params === undefined ? { method: u.method } : { method: u.method, params: u.params }, index);
    case "gatewayRpcResponse":
      return json(T.meRpcResponse + u.id, u.data ?? null, index);
    case "gatewayTelemetry":
      return json(T.meTelemetry, u.points.map((p) => (p.ts === undefined ? p.values : { ts: p.ts, values: p.values })), index);
    case "gatewayAttributes":
      return json(T.meAttributes, u.values, index);
    default:
      return null;
  }
}

/** The serialised pieces an uplink adds to a merged publish: array elements or object fields. */
function pieces(u: Uplink, json: string[], fields: string[]): void {
  switch (u.kind) {
    case "telemetry":
      for (const p of u.points) json.push(p.ts === undefined ? JSON.stringify(p.values) : `{"ts":${p.ts},"values":${JSON.stringify(p.values)}}`);
      return;
    case "attributes":
      for (const k of Object.keys(u.values)) {
        fields.push(k);
        json.push(`${JSON.stringify(k)}:${JSON.stringify(u.values[k])}`);
      }
      return;
    case "claim": {
      const body: { secretKey?: string; durationMs?: number } = {};
      if (u.secretKey !== undefined) body.secretKey = u.secretKey;
      if (u.durationMs !== undefined) body.durationMs = u.durationMs;
      json.push(JSON.stringify(body));
      return;
    }
  }
}

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

function idFrom(topic: string, prefix: string): number {
  const id = Number(topic.slice(prefix.length));
  return Number.isInteger(id) ? id : NaN;
}

function decodeDownlink(topic: string, body: unknown): Downlink | string {
  if (topic.startsWith(T.meRpcRequest)) {
    const id = idFrom(topic, T.meRpcRequest);
    if (Number.isNaN(id) || !isObject(body) || typeof body.method !== "string") return "expected {method, params} and a numeric request id";
    if (body.method === "gateway_device_renamed") {
      const names = isObject(body.params) ? Object.entries(body.params) : [];
      if (names.length !== 1 || typeof names[0][1] !== "string") return 'gateway_device_renamed expects params {"old name": "new name"}';
      return { kind: "deviceRenamed", id, from: names[0][0], to: names[0][1] as string };
    }
    if (body.method === "gateway_device_deleted") {
      if (typeof body.params !== "string") return "gateway_device_deleted expects the device name as params";
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
  switch (topic) {
    case T.attributes: {
      if (!isObject(body.data)) return 'expected "data" to be an object';
      const { deleted, ...values } = body.data;
      const gone = Array.isArray(deleted) ? deleted.filter((k): k is string => typeof k === "string") : [];
      return { kind: "attributeUpdate", device, values: values as Values, deleted: gone };
    }
    case T.attributeResponse: {
      if (typeof body.id !== "number") return 'expected a numeric "id"';
      const r: Downlink = { kind: "attributeResponse", id: body.id, device };
      if ("values" in body && isObject(body.values)) r.values = body.values as Values;
      else if ("value" in body) r.value = body.value as Value;
      return r;
    }
    case T.rpc: {
      const d = body.data;
      if (!isObject(d) || typeof d.id !== "number" || typeof d.method !== "string") return 'expected "data" with a numeric "id" and a "method"';
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

  connectOptions(c: Credentials): ConnectOptions {
    if (c.accessToken) return { username: c.accessToken, clientId: c.clientId };
    return { clientId: c.clientId, username: c.username, password: c.password };
  },

  validate(u: Uplink): string | null {
    switch (u.kind) {
      case "event":
      case "gatewayEvent":
        return "ThingsBoard has no events: send them as telemetry (telemetry-out) under a key of your choice";
      case "downlinkAnswer":
        return "ThingsBoard has no such answer";
      case "gatewayTelemetry":
        return uplinkProblem({ kind: "telemetry", device: "gateway", points: u.points });
      case "gatewayAttributes":
        return uplinkProblem({ kind: "attributes", device: "gateway", values: u.values });
      default:
        return uplinkProblem(u);
    }
  },

  encode(batch: readonly Uplink[], maxPacket: number, propertiesBytes = 0): Encoded {
    // The server counts the packet's remaining length: the payload gets what the topic
    // (2-byte length + UTF-8), the packet id (2) and the MQTT 5 properties leave of it.
    const room = (topic: string): number => maxPacket - (2 + utf8Length(topic) + 2 + propertiesBytes);
    const slots: Array<Publish | JsonBatch> = [];
    const open = new Map<Mergeable, { batch: JsonBatch; pos: number }>();
    // Position of the latest publish that carries each device: a merged publish placed before
    // it must not take that device's later uplinks, or they would overtake it.
    const lastPos = new Map<string, number>();
    const keys = new Map<string, Key>();
    const refused: Refusal[] = [];
    const json: string[] = [];
    const fields: string[] = [];
    const bytes: number[] = [];

    for (let index = 0; index < batch.length; index++) {
      const u = batch[index];
      const one = single(u, index);
      if (one) {
        if (one.payload.length > room(one.topic)) {
          refused.push({ index, reason: `the message is ${one.payload.length} bytes, over the server's limit of ${maxPacket} bytes per packet with its topic` });
          continue;
        }
        slots.push(one);
        if ("device" in u) lastPos.set(u.device, slots.length - 1);
        continue;
      }
      const kind = u.kind as Mergeable;
      const shape = SHAPES[kind];
      const device = (u as { device: string }).device;
      let key = keys.get(device);
      if (!key) {
        const k = JSON.stringify(device);
        key = { json: k, bytes: utf8Length(k) };
        keys.set(device, key);
      }
      json.length = fields.length = bytes.length = 0;
      pieces(u, json, fields);
      // A piece that does not fit even alone refuses the whole uplink, before any of it is placed.
      const maxPayload = room(T[kind]);
      const alone = 2 + memberOverhead(shape, key, true);
      let tooBig = -1;
      for (let i = 0; i < json.length; i++) {
        bytes.push(utf8Length(json[i]));
        if (alone + bytes[i] > maxPayload) tooBig = bytes[i];
      }
      if (tooBig >= 0) {
        refused.push({ index, reason: `one ${kind === "telemetry" ? "point" : "value"} is ${tooBig} bytes, over the server's limit of ${maxPacket} bytes per packet with its topic` });
        continue;
      }
      const after = lastPos.get(device) ?? -1;
      let o = open.get(kind);
      for (let i = 0; i < json.length; i++) {
        if (!o || o.pos < after || o.batch.sizeWith(device, key, bytes[i]) > maxPayload) {
          o = { batch: new JsonBatch(T[kind], shape), pos: slots.length };
          slots.push(o.batch);
          open.set(kind, o);
        }
        o.batch.add(device, key, json[i], bytes[i], fields.length > 0 ? fields[i] : undefined);
        o.batch.carry(index);
      }
      if (o) lastPos.set(device, o.pos);
    }

    const publishes = slots.map((s) => (s instanceof JsonBatch ? { topic: s.topic, payload: s.toBuffer(), carries: s.carries } : s));
    return { publishes, refused };
  },

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
