// ThingsPanel's gateway MQTT spec, as its backend really accepts it (shared/protocols/thingspanel.md).
// Topics carry the gateway's device number; attribute reports and events are acknowledged by
// message id on devices/… (the backend) or gateway/… (the spec) response topics. A command to
// several devices is answered once per message id, when every addressed device has answered.
import type { Downlink, TelemetryPoint, Uplink, Values } from "../records";
import type { PublishCost } from "../records";
import type { ConnectOptions, Credentials, Decoded, Dialect, DialectFactory, Encoded, GatewayIdentity, Prepared, Publish, Refusal } from "./types";
import { utf8Length } from "./json-batch";
import { uplinkProblem } from "./validate";
import { pack, type EnvelopeEntry } from "./thingspanel-envelope";
import { ackError, attributeQueryParts, attributeSetParts, commandParts, controlParts, isObject, MAX_DEPTH, members } from "./thingspanel-downlink";
import { serialise } from "./serialise";

/** Sub-device addresses are at most this long (the platform's column). */
export const MAX_ADDRESS = 36;
/** Commands whose answers are still being gathered; the oldest are forgotten past this. */
const MAX_OPEN_COMMANDS = 1000;
const GATEWAY = "\u0000gateway";
/** ThingsPanel's broker has no rate limit: every publish counts as one message, never held back. */
const COST: PublishCost = { own: false, messages: 1, telemetryMessages: 0, dataPoints: 0 };

export function deviceNumberProblem(n: unknown): string | null {
  if (typeof n !== "string" || n.trim() === "") return "ThingsPanel needs the gateway's device number (it names the gateway's topics)";
  if (/[+#/\s]/.test(n)) return `the device number "${n}" may not contain "+", "#", "/" or spaces`;
  return null;
}

/** What is wrong with a device path ("addr" or "sub-gateway/addr", up to MAX_DEPTH addresses). */
export function pathProblem(device: string): string | null {
  const segs = device.split("/");
  if (segs.length > MAX_DEPTH) return `"${device}" nests ${segs.length} addresses: ThingsPanel processes sub-gateways to a depth of ${MAX_DEPTH}`;
  for (const s of segs) {
    if (s === "") return `"${device}" has an empty sub-device address (a path is "sub-gateway/address")`;
    if (s.length > MAX_ADDRESS) return `sub-device address "${s}" is longer than ${MAX_ADDRESS} characters`;
  }
  return null;
}

interface Command {
  messageId: string;
  method: string | undefined;
  waiting: Set<string>;
  error?: string;
}

function failureOf(data: unknown): string | undefined {
  if (!isObject(data)) return undefined;
  if (data.error !== undefined && data.error !== null && data.error !== false) return typeof data.error === "string" ? data.error : JSON.stringify(data.error);
  if (data.result === 1) return typeof data.errcode === "string" && data.errcode ? data.errcode : typeof data.message === "string" ? data.message : "failed";
  return undefined;
}

function response(error: string | undefined, method?: string): string {
  const ts = Math.floor(Date.now() / 1000);
  const body: Record<string, unknown> = error === undefined ? { result: 0, message: "success", ts } : { result: 1, errcode: error, message: error, ts };
  if (method !== undefined) body.method = method;
  return JSON.stringify(body);
}

function pathOf(u: Uplink): string[] {
  return "device" in u ? u.device.split("/") : [];
}

/** Telemetry points in time order, one step per timestamp (untimed points last: they mean "now"). */
function steps(points: readonly TelemetryPoint[]): Values[] {
  const byTs = new Map<number, Values>();
  for (const p of points) {
    const ts = p.ts ?? Infinity;
    byTs.set(ts, { ...(byTs.get(ts) ?? {}), ...p.values });
  }
  return [...byTs.keys()].sort((a, b) => a - b).map((ts) => byTs.get(ts) as Values);
}

export class ThingsPanelDialect implements Dialect {
  readonly platform = "thingspanel";
  readonly subscriptions: readonly string[];
  readonly defaultMaxPayload = 256 * 1024 * 1024;
  readonly hasGatewayRpc = false;
  readonly maxKeepaliveS = 300;
  private readonly dn: string;
  private seq = Math.floor(Math.random() * 0x7fffffff);
  private nextRpcId = 1;
  private readonly commands = new Map<number, Command>();

  constructor(identity: GatewayIdentity) {
    const problem = deviceNumberProblem(identity.deviceNumber);
    if (problem) throw new Error(problem);
    this.dn = (identity.deviceNumber as string).trim();
    const dn = this.dn;
    this.subscriptions = [
      `gateway/telemetry/control/${dn}`,
      `gateway/attributes/set/${dn}/+`,
      `gateway/attributes/get/${dn}`,
      `gateway/command/${dn}/+`,
      `gateway/attributes/response/${dn}/+`,
      `gateway/event/response/${dn}/+`,
      `devices/attributes/response/${dn}/+`,
      `devices/event/response/${dn}/+`,
    ];
  }

  connectOptions(c: Credentials): ConnectOptions {
    // The client id must be non-empty and the same across reconnects.
    const clientId = c.clientId || `mqtt_${this.dn.slice(0, 12)}`;
    if (c.accessToken) return { clientId, username: c.accessToken, password: "" };
    return { clientId, username: c.username, password: c.password };
  }

  validate(u: Uplink): string | null {
    switch (u.kind) {
      case "attributeRequest":
        return "ThingsPanel has no attribute request from a gateway: the platform asks (attribute-in), the flow answers with attribute-out";
      case "claim":
        return "ThingsPanel has no device claiming";
      case "gatewayRpcRequest":
        return "ThingsPanel has no RPC from the gateway to the platform";
      case "gatewayTelemetry":
        return uplinkProblem({ kind: "telemetry", device: "gateway", points: u.points });
      case "gatewayAttributes":
        return uplinkProblem({ kind: "attributes", device: "gateway", values: u.values });
      case "event":
      case "gatewayEvent":
        if (typeof u.method !== "string" || u.method === "") return "event method must be a non-empty string";
        try {
          JSON.stringify(u.params);
        } catch (err) {
          return `event params cannot be sent as JSON: ${(err as Error).message}`;
        }
        break;
    }
    const p = uplinkProblem(u);
    if (p) return p;
    return "device" in u ? pathProblem(u.device) : null;
  }

  awaitsAck(topic: string): string | undefined {
    const m = /^gateway\/(attributes|event)\/([^/]+)$/.exec(topic);
    return m ? `${m[1]}/${m[2]}` : undefined;
  }

  /** Checks at accept time that what the uplink carries survives JSON (encode serialises it per envelope). */
  prepare(u: Uplink): Prepared {
    let body = "null";
    switch (u.kind) {
      case "telemetry":
      case "gatewayTelemetry":
        body = serialise(u.points.map((p) => p.values), "the telemetry values");
        break;
      case "attributes":
      case "gatewayAttributes":
        body = serialise(u.values, "the attributes");
        break;
      case "event":
      case "gatewayEvent":
        body = serialise(u.params ?? null, "the event params");
        break;
      case "rpcResponse":
      case "gatewayRpcResponse":
        body = serialise(u.data ?? null, "the command answer");
        break;
    }
    return { json: [body], bytes: [utf8Length(body)] };
  }

  private messageId(): string {
    this.seq = (this.seq + 1) >>> 0;
    return this.seq.toString(16).padStart(8, "0").slice(-8);
  }

  encode(batch: readonly Uplink[], maxPacket: number, propertiesBytes = 0): Encoded {
    const room = (topic: string): number => maxPacket - (2 + utf8Length(topic) + 2 + propertiesBytes);
    const publishes: Publish[] = [];
    const refused: Refusal[] = [];
    // Per kind, per device path: its members in order (steps of telemetry, events; merged attributes).
    const telemetry = new Map<string, { path: string[]; items: Array<{ values: Values; index: number }> }>();
    const attributes = new Map<string, { path: string[]; values: Values; carries: number[] }>();
    const events = new Map<string, { path: string[]; items: Array<{ json: string; index: number }> }>();
    const answered = new Map<number, Publish>();

    for (let index = 0; index < batch.length; index++) {
      const u = batch[index];
      const key = "device" in u ? u.device : "";
      switch (u.kind) {
        case "telemetry":
        case "gatewayTelemetry": {
          let t = telemetry.get(key);
          if (!t) telemetry.set(key, (t = { path: pathOf(u), items: [] }));
          for (const values of steps(u.points)) t.items.push({ values, index });
          break;
        }
        case "attributes":
        case "gatewayAttributes": {
          let a = attributes.get(key);
          if (!a) attributes.set(key, (a = { path: pathOf(u), values: {}, carries: [] }));
          Object.assign(a.values, u.values);
          a.carries.push(index);
          break;
        }
        case "event":
        case "gatewayEvent": {
          let e = events.get(key);
          if (!e) events.set(key, (e = { path: pathOf(u), items: [] }));
          e.items.push({ json: JSON.stringify(u.params === undefined ? { method: u.method } : { method: u.method, params: u.params }), index });
          break;
        }
        case "rpcResponse":
        case "gatewayRpcResponse": {
          const p = this.answer(u.kind === "rpcResponse" ? u.device : GATEWAY, u.id, u.data, index, answered);
          if (p) publishes.push(p);
          break;
        }
        case "downlinkAnswer": {
          const m = /^set\/([^/]+)$/.exec(u.ref);
          if (!m) refused.push({ index, reason: `unknown downlink reference "${u.ref}"` });
          else publishes.push({ topic: `gateway/attributes/set/response/${m[1]}`, payload: Buffer.from(response(u.error)), carries: [index], cost: COST });
          break;
        }
        // connect / disconnect have no wire form: sub-devices are created in ThingsPanel's UI.
        default:
          break;
      }
    }

    const place = (entries: EnvelopeEntry[], topic: () => string, what: string): void => {
      if (entries.length === 0) return;
      // The topic's length is the same for every message id (8 hex characters).
      const { packed, tooBig } = pack(entries, room(topic()));
      for (const p of packed) publishes.push({ topic: topic(), payload: Buffer.from(p.payload), carries: p.carries, cost: COST });
      for (const t of tooBig) for (const index of t.entry.carries) if (!refused.some((r) => r.index === index)) refused.push({ index, reason: `the ${what} of "${t.entry.path.join("/") || "the gateway"}" is ${t.bytes} bytes, over the server's limit of ${maxPacket} bytes per packet with its topic` });
    };

    // Envelope n holds the n-th member of every device: order per device is kept, values never merged away.
    for (let n = 0; ; n++) {
      const entries: EnvelopeEntry[] = [];
      for (const t of telemetry.values()) if (n < t.items.length) entries.push({ path: t.path, json: JSON.stringify(t.items[n].values), carries: [t.items[n].index] });
      if (entries.length === 0) break;
      place(entries, () => "gateway/telemetry", "telemetry");
    }
    place(
      [...attributes.values()].map((a) => ({ path: a.path, json: JSON.stringify(a.values), carries: a.carries })),
      () => `gateway/attributes/${this.messageId()}`,
      "attributes",
    );
    for (let n = 0; ; n++) {
      const entries: EnvelopeEntry[] = [];
      for (const e of events.values()) if (n < e.items.length) entries.push({ path: e.path, json: e.items[n].json, carries: [e.items[n].index] });
      if (entries.length === 0) break;
      place(entries, () => `gateway/event/${this.messageId()}`, "event");
    }
    if (refused.length === 0) return { publishes, refused };
    // A refused uplink is carried by nothing: the rest of what it would have sent is dropped with it.
    const no = new Set(refused.map((r) => r.index));
    const kept = publishes.map((p) => ({ ...p, carries: p.carries.filter((i) => !no.has(i)) })).filter((p) => p.carries.length > 0);
    return { publishes: kept, refused };
  }

  /**
   * Records one device's answer to a command; the response goes up with the last one. Answers
   * before it are carried by no publish (delivered at once); an answer to no open command (a
   * telemetry control) has no wire form either.
   */
  private answer(device: string, id: number, data: unknown, index: number, answered: Map<number, Publish>): Publish | undefined {
    const cmd = this.commands.get(id);
    if (!cmd) return undefined;
    cmd.waiting.delete(device);
    cmd.error ??= failureOf(data);
    if (cmd.waiting.size > 0) return undefined;
    const already = answered.get(id);
    if (already) {
      already.carries.push(index);
      return undefined;
    }
    // Kept (not deleted) until pushed out by newer ones: a publish lost with the connection is encoded again.
    const p: Publish = { topic: `gateway/command/response/${cmd.messageId}`, payload: Buffer.from(response(cmd.error, cmd.method)), carries: [index], cost: COST };
    answered.set(id, p);
    return p;
  }

  decode(topic: string, payload: Buffer): Decoded {
    const segs = topic.split("/");
    if (segs[0] !== "gateway" && segs[0] !== "devices") return null;
    let body: unknown;
    try {
      body = JSON.parse(payload.toString("utf8"));
    } catch {
      return { error: `invalid JSON on ${topic}` };
    }
    const d = this.decodeBody(segs, body);
    if (d === null) return null;
    return typeof d === "string" ? { error: `unexpected message on ${topic}: ${d}` } : d;
  }

  private decodeBody(segs: string[], body: unknown): Downlink | string | null {
    const dn = this.dn;
    const at = (i: number): string | undefined => segs[i];
    // {gateway|devices}/{attributes|event}/response/{dn}/{mid}: an ack of our report.
    if (segs.length === 5 && at(2) === "response" && at(3) === dn && (at(1) === "attributes" || at(1) === "event")) {
      const error = ackError(body);
      if (error === null) return 'expected {"result": 0|1}';
      return error === undefined ? { kind: "uplinkAck", key: `${at(1)}/${at(4)}` } : { kind: "uplinkAck", key: `${at(1)}/${at(4)}`, failure: error };
    }
    if (segs[0] !== "gateway") return null;
    const ms = members(body);
    if (typeof ms === "string") return ms;
    if (segs.length === 4 && at(1) === "telemetry" && at(2) === "control" && at(3) === dn) {
      const parts = controlParts(ms, this.rpcId());
      return typeof parts === "string" ? parts : { kind: "group", parts };
    }
    if (segs.length === 5 && at(1) === "attributes" && at(2) === "set" && at(3) === dn) {
      const parts = attributeSetParts(ms);
      if (typeof parts === "string") return parts;
      // The gateway's own attributes reach no node: say so rather than acknowledge them as applied.
      const own = ms.some((m) => m.device === "");
      const error = own ? "the gateway's own attributes (gateway_data) reach no node of this gateway; the sub-devices' were applied" : undefined;
      return { kind: "group", parts, answer: { kind: "downlinkAnswer", ref: `set/${at(4)}`, error } };
    }
    if (segs.length === 4 && at(1) === "attributes" && at(2) === "get" && at(3) === dn) {
      const parts = attributeQueryParts(ms);
      return typeof parts === "string" ? parts : { kind: "group", parts };
    }
    if (segs.length === 4 && at(1) === "command" && at(2) === dn) {
      const id = this.rpcId();
      const parts = commandParts(ms, id);
      if (typeof parts === "string") return parts;
      const waiting = new Set(parts.map((p) => (p.kind === "rpcRequest" ? p.device : GATEWAY)));
      const method = parts.length === 1 && (parts[0].kind === "rpcRequest" || parts[0].kind === "gatewayRpcRequest") ? parts[0].method : undefined;
      this.commands.set(id, { messageId: at(3) as string, method, waiting });
      while (this.commands.size > MAX_OPEN_COMMANDS) this.commands.delete(this.commands.keys().next().value as number);
      return { kind: "group", parts };
    }
    return null;
  }

  private rpcId(): number {
    const id = this.nextRpcId;
    this.nextRpcId = id >= 0x7fffffff ? 1 : id + 1;
    return id;
  }
}

export const createThingsPanelDialect: DialectFactory = (identity) => new ThingsPanelDialect(identity);
