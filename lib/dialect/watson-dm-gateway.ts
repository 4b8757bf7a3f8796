// A managed Watson gateway: what the device management protocol adds to the dialect. A device's
// connect is its manage request (lifetime, supports {deviceActions: true, firmwareActions: false},
// deviceInfo and metadata from the device-connect msg, remembered for every later manage), its
// disconnect its unmanage; the gateway's own manage goes after every connect; the events
// "location", "log" and "errorCode" are device management updates; the platform's device actions
// (reboot, factory_reset) are RPCs for rpc-in, answered 202 / 500 / 501, and every other request of
// the platform (firmware, device updates) is answered 501 by the package itself.
import type { Downlink, Uplink } from "../records";
import type { Decoded } from "./types";
import { serialise } from "./serialise";
import { actionAnswer, DM_EVENTS, dmUpdate } from "./watson-dm-shapes";
import { actionOf, DEVICE_ACTIONS, DmRequests, dmTopic, parseDmTopic } from "./watson-dm";

const MAX_OPEN_ACTIONS = 1000;

/** One request of the platform the gateway answers: the reqId to copy into the answer. */
interface Action {
  type: string;
  id: string;
  reqId: string;
  what: string;
}

export interface DmPublish {
  topic: string;
  body: string;
  what: string;
}

type Connect = Extract<Uplink, { kind: "connect" }>;

const isObject = (v: unknown): boolean => typeof v === "object" && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);

export class ManagedGateway {
  readonly requests = new DmRequests();
  /** Each device's {deviceInfo, metadata} members (JSON without braces), from its last device-connect that had them. */
  private readonly info = new Map<string, string>();
  private readonly actions = new Map<number, Action>();

  constructor(
    readonly gwType: string,
    readonly gwId: string,
    readonly lifetimeS: number,
    private readonly rpcId: () => number,
  ) {}

  /** Whether an event of this name is a device management update here. */
  isUpdate(method: string): boolean {
    return DM_EVENTS.has(method);
  }

  validateConnect(u: Connect): string | null {
    if (u.metadata !== undefined && !isObject(u.metadata)) return "msg.metadata must be an object (the device's metadata in Watson IoT's device management)";
    if (u.deviceInfo !== undefined && !isObject(u.deviceInfo)) return "msg.deviceInfo must be an object ({serialNumber, manufacturer, model, deviceClass, description, fwVersion, hwVersion, descriptiveLocation})";
    return null;
  }

  /** A device-connect's deviceInfo and metadata, serialised when accepted. */
  prepareConnect(u: Connect): string[] {
    const parts: string[] = [];
    if (u.deviceInfo !== undefined) parts.push(`"deviceInfo":${serialise(u.deviceInfo, "msg.deviceInfo")}`);
    if (u.metadata !== undefined) parts.push(`"metadata":${serialise(u.metadata, "msg.metadata")}`);
    return parts.length ? [parts.join(",")] : [];
  }

  /** The manage request of a device (info: from its connect; none: what it was managed with before). */
  manage(type: string, device: string, info?: string): DmPublish {
    if (info !== undefined) this.info.set(device, info);
    const members = this.info.get(device);
    return this.request("manage", type, device, "mgmt/manage", this.manageD(members));
  }

  manageGateway(): DmPublish {
    return this.request("manage", this.gwType, this.gwId, "mgmt/manage", this.manageD(undefined));
  }

  unmanage(type: string, device: string): DmPublish {
    this.info.delete(device);
    return this.request("unmanage", type, device, "mgmt/unmanage", undefined);
  }

  /** An event that is a device management update, checked (a string: what is wrong). */
  validateUpdate(method: string, params: unknown): string | null {
    try {
      dmUpdate(method, params);
      return null;
    } catch (err) {
      return (err as Error).message;
    }
  }

  prepareUpdate(method: string, params: unknown): string[] {
    const u = dmUpdate(method, params);
    return [JSON.stringify(u)];
  }

  update(type: string, device: string, method: string, prepared: string): DmPublish {
    const u = JSON.parse(prepared) as { op: string; d?: string };
    return this.request(method === "errorCode" ? "error code" : method === "log" ? "log entry" : "location update", type, device, u.op, u.d);
  }

  /** Whether an rpc id is a request of the platform this gateway answers on its response topic. */
  isAction(id: number): boolean {
    return this.actions.has(id);
  }

  validateAnswer(id: number, data: unknown): string | null {
    const a = actionAnswer(data);
    const action = this.actions.get(id);
    return typeof a === "string" ? `${action ? `${action.what} of ${action.type}/${action.id}: ` : ""}${a}` : null;
  }

  /** The answer to a platform request; undefined when it was answered already. */
  answer(id: number, data: unknown): DmPublish | undefined {
    const action = this.actions.get(id);
    if (!action) return undefined;
    this.actions.delete(id);
    const a = actionAnswer(data);
    const rc = typeof a === "string" ? { rc: 500, message: a } : a;
    const body = JSON.stringify({ rc: rc.rc, ...(rc.message === undefined ? {} : { message: rc.message }), reqId: action.reqId });
    return { topic: dmTopic(action.type, action.id, "response"), body, what: `the answer to ${action.what}` };
  }

  /** A message on iotdm-1/…; undefined when the topic is not one. */
  decode(topic: string, payload: Buffer): Decoded | undefined {
    const t = parseDmTopic(topic);
    if (!t) return undefined;
    let body: unknown;
    try {
      body = JSON.parse(payload.toString("utf8"));
    } catch {
      return { error: `a device management message on ${topic} is not valid JSON` };
    }
    if (t.op === "response") {
      const a = this.requests.answer(body);
      if (typeof a === "string") return { error: `a device management answer on ${topic}: ${a}` };
      return a.failure === undefined ? { kind: "uplinkAck", key: a.key } : { kind: "uplinkAck", key: a.key, failure: a.failure };
    }
    const b = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
    if (typeof b.reqId !== "string") return { error: `a device management request on ${topic} has no reqId: it cannot be answered` };
    const action = actionOf(t.op);
    const own = t.type === this.gwType && t.id === this.gwId;
    const id = this.open({ type: t.type, id: t.id, reqId: b.reqId, what: action ? `the device action "${action}"` : `the request ${t.op}` });
    if (action && DEVICE_ACTIONS.has(action)) {
      const extra = { deviceType: t.type, deviceId: t.id, reqId: b.reqId };
      const unwatched = { rc: 501, message: `no rpc-in node of the gateway watches "${action}"` };
      const params = b.d ?? {};
      const d: Downlink = own ? { kind: "gatewayRpcRequest", id, method: action, params, extra, unwatched } : { kind: "rpcRequest", device: t.id, id, method: action, params, extra, unwatched };
      return d;
    }
    // Firmware actions and device updates: not supported by this gateway, answered so.
    const data = { rc: 501, message: `the gateway does not implement ${t.op}` };
    return { kind: "group", parts: [], answer: own ? { kind: "gatewayRpcResponse", id, data } : { kind: "rpcResponse", device: t.id, id, data } };
  }

  /** A notification about a device management publish fails the request it reports. */
  refused(topic: string, failure: string): Decoded | undefined {
    const a = this.requests.refusedOn(topic, failure);
    return a ? { kind: "uplinkAck", key: a.key, failure: a.failure } : undefined;
  }

  private open(a: Action): number {
    const id = this.rpcId();
    this.actions.set(id, a);
    while (this.actions.size > MAX_OPEN_ACTIONS) this.actions.delete(this.actions.keys().next().value as number);
    return id;
  }

  private manageD(members: string | undefined): string {
    const base = `"lifetime":${this.lifetimeS},"supports":{"deviceActions":true,"firmwareActions":false}`;
    return `{${members ? `${base},${members}` : base}}`;
  }

  private request(what: string, type: string, id: string, op: string, d: string | undefined): DmPublish {
    const r = this.requests.open(what, type, id, op, d);
    return { topic: r.topic, body: r.body, what: `${what} of ${type}/${id}` };
  }
}
