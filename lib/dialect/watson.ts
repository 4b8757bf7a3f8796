// IBM Watson IoT's gateway protocol (shared/protocols/watson.md; IBM Maximo IoT serves the same).
// Every device event is its own publish on iot-2/type/{type}/id/{id}/evt/{event}/fmt/json with
// the body {"d": {...}, "ts": ISO 8601} that Watson's dashboards read; devices register themselves
// on their first publish. Commands have no reply on this platform: an answer from rpc-response goes
// up as the event "{command}-reply" of the same device. The platform never acknowledges a publish
// beyond its PUBACK, but reports refusals on the gateway's notify topic: those fail their msg.
// A managed gateway (identity.managed) speaks the device management protocol too: watson-dm*.ts.
import type { Downlink, PublishCost, Uplink } from "../records";
import type { ConnectOptions, Credentials, Decoded, Dialect, DialectFactory, Encoded, GatewayIdentity, Prepared, Publish, Refusal } from "./types";
import { utf8Length } from "./json-batch";
import { uplinkProblem } from "./validate";
import { COMMANDS_FILTER, eventTopic, nameProblem, notificationHint, notificationKey, notifyTopic, orgProblem, parseCommandTopic, parseNotification, segmentProblem, WATSON_MAX_PAYLOAD } from "./watson-rules";
import { serialise } from "./serialise";
import { body, steps, wrapped } from "./watson-body";
import { ManagedGateway } from "./watson-dm-gateway";
import { DEFAULT_LIFETIME_S, DM_FILTER, DmRequests, lifetimeProblem } from "./watson-dm";

/** Watson has no rate limits: every publish counts as one message, never held back. */
const COST: PublishCost = { own: false, messages: 1, telemetryMessages: 0, dataPoints: 0 };
/** The event id of telemetry-out's values. */
export const TELEMETRY_EVENT = "telemetry";
/** Commands remembered for their reply event; the oldest are forgotten past this. */
const MAX_OPEN_COMMANDS = 1000;
const TEXT_FORMATS = new Set(["text", "txt", "csv", "xml", "string"]);

interface Command {
  type: string;
  id: string;
  command: string;
}

export class WatsonDialect implements Dialect {
  readonly platform = "watson";
  readonly subscriptions: readonly string[];
  readonly defaultMaxPayload = WATSON_MAX_PAYLOAD;
  readonly hasGatewayRpc = false;
  readonly org: string;
  readonly typeId: string;
  readonly deviceId: string;
  private readonly defaultType: string | undefined;
  /** The type of each device, from its announcement (its profile) or from a command addressed to it. */
  private readonly types = new Map<string, string>();
  private readonly commands = new Map<number, Command>();
  private nextRpcId = 1;
  /** The device management protocol, on a managed gateway only. */
  readonly dm: ManagedGateway | undefined;
  readonly renewMs: number | undefined;

  constructor(identity: GatewayIdentity) {
    const problem = orgProblem(identity.org) ?? nameProblem(identity.typeId, "the gateway's device type") ?? nameProblem(identity.deviceId, "the gateway's device id");
    if (problem) throw new Error(problem);
    if (identity.deviceType !== undefined) {
      const p = nameProblem(identity.deviceType, "the default device type");
      if (p) throw new Error(p);
    }
    this.org = (identity.org as string).trim();
    this.typeId = identity.typeId as string;
    this.deviceId = identity.deviceId as string;
    this.defaultType = identity.deviceType;
    this.subscriptions = [notifyTopic(this.typeId, this.deviceId), COMMANDS_FILTER];
    if (identity.managed) {
      const lifetime = identity.lifetimeS ?? DEFAULT_LIFETIME_S;
      const p = lifetimeProblem(lifetime);
      if (p) throw new Error(p);
      this.dm = new ManagedGateway(this.typeId, this.deviceId, lifetime, () => this.rpcId());
      this.subscriptions = [...this.subscriptions, DM_FILTER];
      // Re-managed at 90 % of the lifetime: the platform marks a device dormant when it runs out.
      // (A timer takes at most 2^31-1 ms, about 24.8 days: a longer lifetime is renewed that often.)
      this.renewMs = identity.renewMs ?? (lifetime > 0 ? Math.min(lifetime * 900, 0x7fffffff) : undefined);
    }
  }

  /** A managed gateway manages itself after every connect. */
  gatewayAnnouncement(): Uplink | undefined {
    return this.dm ? { kind: "gatewayConnect" } : undefined;
  }

  /** What a device management request waits for: the platform's answer with its reqId. */
  awaitsAck(topic: string, payload?: Buffer): string | undefined {
    return this.dm ? DmRequests.keyOf(topic, payload) : undefined;
  }

  connectOptions(c: Credentials): ConnectOptions {
    const clientId = `g:${this.org}:${this.typeId}:${this.deviceId}`;
    return { clientId, username: "use-token-auth", password: c.accessToken ?? c.password ?? "" };
  }

  validate(u: Uplink): string | null {
    switch (u.kind) {
      case "attributes":
      case "gatewayAttributes":
        return "Watson IoT has no attributes outside device management: send the values as telemetry (telemetry-out) or as an event (event-out)";
      case "attributeRequest":
        return "Watson IoT has no attributes to request: commands (rpc-in) are how the platform sends values down";
      case "claim":
        return "Watson IoT has no device claiming: devices behind a gateway register themselves on their first event";
      case "gatewayRpcRequest":
        return "Watson IoT has no RPC from the gateway to the platform";
      case "downlinkAnswer":
      case "gatewayConnect":
        return null;
      case "gatewayTelemetry":
        return uplinkProblem({ kind: "telemetry", device: "gateway", points: u.points });
      case "event":
      case "gatewayEvent":
        if (this.dm?.isUpdate(u.method)) return (u.kind === "event" ? nameProblem(u.device, "the device id") : null) ?? this.dm.validateUpdate(u.method, u.params);
        return segmentProblem(u.method, "the event id") ?? (u.kind === "event" ? nameProblem(u.device, "the device id") : null);
      case "connect": {
        const p = nameProblem(u.device, "the device id") ?? (u.profile === undefined || u.profile === "" ? null : nameProblem(u.profile, `the device type (profile) of "${u.device}"`));
        if (p) return p;
        if (this.dm) return this.dm.validateConnect(u);
        return u.metadata !== undefined || u.deviceInfo !== undefined ? "msg.metadata and msg.deviceInfo go to Watson IoT only from a managed gateway: turn on \"Managed gateway\" in the gateway-config" : null;
      }
      case "gatewayRpcResponse":
        return this.dm?.isAction(u.id) ? this.dm.validateAnswer(u.id, u.data) : null;
      case "rpcResponse":
        if (this.dm?.isAction(u.id)) return nameProblem(u.device, "the device id") ?? this.dm.validateAnswer(u.id, u.data);
        break;
    }
    return uplinkProblem(u) ?? nameProblem(u.device, "the device id");
  }

  /** Serialised at accept time: telemetry one body per timestamp, an event or a reply one body. */
  prepare(u: Uplink): Prepared {
    let json: string[] = [];
    switch (u.kind) {
      case "telemetry":
      case "gatewayTelemetry":
        json = steps(u.points).map((s) => body(serialise(s.values, "the telemetry values"), s.ts));
        break;
      case "connect":
        if (this.dm) json = this.dm.prepareConnect(u);
        break;
      case "event":
      case "gatewayEvent":
        if (this.dm?.isUpdate(u.method)) {
          json = this.dm.prepareUpdate(u.method, u.params);
          break;
        }
        // A payload already in Watson's form ({d}, or {d, ts}) is sent as it is, not wrapped again.
        json = [wrapped(u.params) ? serialise(u.params, "the event data") : body(serialise(u.params ?? null, "the event data"), Date.now())];
        break;
      case "rpcResponse":
      case "gatewayRpcResponse":
        json = [body(serialise(u.data ?? null, "the command answer"), Date.now())];
        break;
    }
    return { json, bytes: json.map(utf8Length) };
  }

  /** The type a device's topics carry: its profile, else the type a command came with, else the configured default. */
  private typeOf(device: string): string | undefined {
    return this.types.get(device) ?? this.defaultType;
  }

  encode(batch: readonly Uplink[], maxPacket: number, propertiesBytes = 0, extras: { prepared?: ReadonlyArray<Prepared | undefined> } = {}): Encoded {
    const publishes: Publish[] = [];
    const refused: Refusal[] = [];
    const bodies = (index: number): string[] => (extras.prepared?.[index] ?? this.prepare(batch[index])).json;
    const place = (index: number, topic: string, payloads: string[], what: string): void => {
      const room = maxPacket - (2 + utf8Length(topic) + 2 + propertiesBytes);
      const over = payloads.find((p) => utf8Length(p) > room);
      if (over !== undefined) {
        refused.push({ index, reason: `the ${what} is ${utf8Length(over)} bytes, over the limit of ${maxPacket} bytes per packet with its topic (Watson IoT accepts at most ${WATSON_MAX_PAYLOAD} and closes the connection on more)` });
        return;
      }
      for (const p of payloads) publishes.push({ topic, payload: Buffer.from(p), carries: [index], cost: COST });
    };
    const placeDm = (index: number, p: { topic: string; body: string; what: string }): void => place(index, p.topic, [p.body], p.what);
    const noType = (device: string): string =>
      `Watson IoT needs the device type of "${device}": give it as the device's profile (device-connect, telemetry-out, msg.deviceType) or set a default device type in the gateway-config`;

    for (let index = 0; index < batch.length; index++) {
      const u = batch[index];
      switch (u.kind) {
        case "connect": {
          // No wire form unless managed: a device registers itself with its first event. Its type names its topics.
          if (u.profile) this.types.set(u.device, u.profile);
          if (!this.dm) break;
          const type = this.typeOf(u.device);
          if (!type) refused.push({ index, reason: noType(u.device) });
          else placeDm(index, this.dm.manage(type, u.device, bodies(index)[0]));
          break;
        }
        case "disconnect": {
          const type = this.typeOf(u.device);
          if (this.dm && type) placeDm(index, this.dm.unmanage(type, u.device));
          break;
        }
        case "gatewayConnect":
          if (this.dm) placeDm(index, this.dm.manageGateway());
          break;
        case "telemetry":
        case "event": {
          const type = this.typeOf(u.device);
          if (!type) {
            refused.push({ index, reason: noType(u.device) });
            break;
          }
          if (u.kind === "event" && this.dm?.isUpdate(u.method)) {
            placeDm(index, this.dm.update(type, u.device, u.method, bodies(index)[0]));
            break;
          }
          const event = u.kind === "event" ? u.method : TELEMETRY_EVENT;
          place(index, eventTopic(type, u.device, event), bodies(index), u.kind === "event" ? `event "${event}"` : "telemetry");
          break;
        }
        case "gatewayTelemetry":
        case "gatewayEvent": {
          if (u.kind === "gatewayEvent" && this.dm?.isUpdate(u.method)) {
            placeDm(index, this.dm.update(this.typeId, this.deviceId, u.method, bodies(index)[0]));
            break;
          }
          const event = u.kind === "gatewayEvent" ? u.method : TELEMETRY_EVENT;
          place(index, eventTopic(this.typeId, this.deviceId, event), bodies(index), u.kind === "gatewayEvent" ? `event "${event}"` : "telemetry");
          break;
        }
        case "rpcResponse":
        case "gatewayRpcResponse": {
          const answer = this.dm?.answer(u.id, u.data);
          if (answer) {
            placeDm(index, answer);
            break;
          }
          const cmd = this.commands.get(u.id);
          // An answer to a command not remembered (forgotten, or a session ago) has nowhere to go: delivered as nothing.
          if (!cmd) break;
          place(index, eventTopic(cmd.type, cmd.id, `${cmd.command}-reply`), bodies(index), `reply to command "${cmd.command}"`);
          break;
        }
        default:
          break;
      }
    }
    return { publishes, refused };
  }

  failureKey(topic: string): string | undefined {
    return topic.startsWith("iot-2/") ? notificationKey("publish", topic) : undefined;
  }

  decode(topic: string, payload: Buffer): Decoded {
    if (topic === this.subscriptions[0]) return this.decodeNotification(payload);
    const dm = this.dm?.decode(topic, payload);
    if (dm !== undefined) return dm;
    const cmd = parseCommandTopic(topic);
    if (!cmd) return null;
    let params: unknown;
    if (cmd.format === "json") {
      try {
        params = JSON.parse(payload.toString("utf8"));
      } catch {
        return { error: `a command "${cmd.command}" for ${cmd.type}/${cmd.id} is not valid JSON although its format is json` };
      }
    } else params = TEXT_FORMATS.has(cmd.format) ? payload.toString("utf8") : Buffer.from(payload);
    const id = this.rpcId();
    this.commands.set(id, { type: cmd.type, id: cmd.id, command: cmd.command });
    while (this.commands.size > MAX_OPEN_COMMANDS) this.commands.delete(this.commands.keys().next().value as number);
    // The fields node-red-contrib-ibm-watson-iot's command msgs had.
    const extra = { deviceType: cmd.type, deviceId: cmd.id, command: cmd.command, format: cmd.format };
    if (cmd.type === this.typeId && cmd.id === this.deviceId) return { kind: "gatewayRpcRequest", id, method: cmd.command, params, extra };
    if (!this.types.has(cmd.id)) this.types.set(cmd.id, cmd.type);
    const d: Downlink = { kind: "rpcRequest", device: cmd.id, id, method: cmd.command, params, extra };
    return d;
  }

  /** The command an rpc id stands for (its device type and format travel on the rpc-in msg). */
  command(id: number): Readonly<Command> | undefined {
    return this.commands.get(id);
  }

  private decodeNotification(payload: Buffer): Decoded {
    let parsed: unknown;
    try {
      parsed = JSON.parse(payload.toString("utf8"));
    } catch {
      return { error: "a notification on the notify topic is not valid JSON" };
    }
    const n = parseNotification(parsed);
    if (typeof n === "string") return { error: `unexpected notification: ${n}` };
    const who = n.type && n.id ? ` for ${n.type}/${n.id}` : "";
    const failure = `Watson IoT refused the ${n.request}${who} on ${n.topic}: RC ${n.rc}, "${n.message}"${notificationHint(n)}`;
    const dm = n.topic.startsWith("iotdevice-1/") ? this.dm?.refused(n.topic, failure) : undefined;
    if (dm) return dm;
    return { kind: "uplinkAck", key: notificationKey(n.request, n.topic), failure };
  }

  private rpcId(): number {
    const id = this.nextRpcId;
    this.nextRpcId = id >= 0x7fffffff ? 1 : id + 1;
    return id;
  }
}

export const createWatsonDialect: DialectFactory = (identity) => new WatsonDialect(identity);
