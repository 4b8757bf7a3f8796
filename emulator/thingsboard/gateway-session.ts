// One gateway MQTT connection: the sub-devices registered in it, its uplinks (gateway API and the
// gateway's own v1/devices/me API), and the server-initiated requests waiting for its answers.
// Sub-device registrations live and die with this object: a new connection starts empty.
import { Platform } from './platform';
import { DeviceRecord } from './store';
import * as P from './payloads';
import * as T from './topics';
import { GatewayConfig } from './types';
import { EntityLimits } from './rate-limits';

export interface SessionTransport {
  readonly protocolVersion: number;
  /** publish to the gateway if it subscribed to the matching filter; false when it did not */
  deliver(topic: string, payload: string | Buffer, force?: boolean): boolean;
  close(): void;
}

/**
 * `unknownTopic`: accepted but not an API topic (MQTT 5 answers PUBACK 0x90 topic name invalid).
 * `quota`: a rate limit refused it (PUBACK QUOTA_EXCEEDED, then the server closes the connection);
 * what the same publish carried for devices before `device` was accepted, as on the server.
 */
export type UplinkOutcome = { ok: true; unknownTopic?: true } | { ok: false; malformed: string } | { ok: false; quota: string; device?: string };

interface Pending {
  device: string;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

const OK: UplinkOutcome = { ok: true };
const UNKNOWN_TOPIC: UplinkOutcome = { ok: true, unknownTopic: true };

function tryJson(payload: Buffer): unknown {
  const s = payload.toString('utf8');
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}

export class GatewaySession {
  open = true;
  readonly devices = new Set<string>();
  private nextRequestId = 1;
  private readonly pendingDeviceRpc = new Map<number, Pending>();
  private readonly pendingOwnRpc = new Map<number, Pending>();

  constructor(readonly platform: Platform, readonly gateway: GatewayConfig, readonly transport: SessionTransport) {}

  private get store() {
    return this.platform.store;
  }

  /** Charges one device message to the gateway's buckets; the refusal, or undefined when it passes. */
  private charge(topic: string, dataPoints: number, device: string | undefined, own = false): UplinkOutcome | undefined {
    const buckets = this.platform.rateLimitsOf(this.gateway.name);
    const entity: EntityLimits = own ? buckets.own : buckets.devices;
    const refused = entity.check(dataPoints);
    if (!refused) return undefined;
    const limits = own ? this.platform.limits.rateLimits : this.platform.limits.gatewayRateLimits;
    const reason = `${own ? 'rateLimits' : 'gatewayRateLimits'}.${refused} "${limits[refused]}" exceeded${device === undefined ? '' : ` by "${device}"`} on ${topic}`;
    this.store.record(this.gateway.name, topic, 'refused', device, { reason: `rate limit: ${reason}` });
    this.platform.log(`[${this.gateway.name}] QUOTA EXCEEDED: ${reason}`);
    return { ok: false, quota: reason, device };
  }

  private malformed(topic: string, reason: string): UplinkOutcome {
    this.store.record(this.gateway.name, topic, 'refused', undefined, { reason: `malformed: ${reason}` });
    this.platform.log(`[${this.gateway.name}] MALFORMED ${topic}: ${reason}`);
    return { ok: false, malformed: reason };
  }

  private warn(topic: string, warnings: string[]): void {
    for (const w of warnings) {
      this.store.record(this.gateway.name, topic, 'refused', undefined, { reason: `skipped: ${w}` });
      this.platform.log(`[${this.gateway.name}] WARN ${topic}: ${w}`);
    }
  }

  /** Registers a device in this session (creating it if needed); `type` never changes an existing profile. */
  private connectDevice(topic: string, name: string, type: string | undefined, auto: boolean): DeviceRecord {
    const { device, created } = this.store.getOrCreate(name, type ?? 'default', this.gateway.name);
    const already = this.devices.has(name);
    if (!device.isGateway) device.gateway = this.gateway.name;
    this.devices.add(name);
    this.platform.register(this, name);
    const detail: Record<string, unknown> = { profile: device.profile, created };
    if (type !== undefined) detail.type = type;
    if (auto) detail.auto = true;
    if (already) detail.alreadyConnected = true;
    this.store.record(this.gateway.name, topic, 'connect', name, detail);
    if (this.platform.logging) {
      this.platform.log(`[${this.gateway.name}] ${auto ? 'auto-' : ''}connect "${name}" profile "${device.profile}"${created ? ' (created)' : ''}`);
    }
    return device;
  }

  /** Any uplink for a device not registered in this session registers it with type "default". */
  private ensure(topic: string, name: string): DeviceRecord {
    if (this.devices.has(name)) {
      const d = this.store.get(name);
      if (d) return d;
    }
    return this.connectDevice(topic, name, undefined, true);
  }

  handleUplink(topic: string, payload: Buffer): UplinkOutcome {
    const poison = this.platform.poisoned(payload);
    if (poison !== undefined) return this.malformed(topic, `the payload contains "${poison}", which this test made fatal`);
    if (topic.startsWith('v1/gateway/')) return this.gatewayUplink(topic, payload);
    if (topic.startsWith('v1/devices/me/')) return this.ownUplink(topic, payload);
    this.store.record(this.gateway.name, topic, 'refused', undefined, { reason: 'unknown topic' });
    this.platform.log(`[${this.gateway.name}] ignored publish on unknown topic ${topic}`);
    return UNKNOWN_TOPIC;
  }

  private gatewayUplink(topic: string, payload: Buffer): UplinkOutcome {
    const parsed = P.parseJsonObject(payload);
    if (!parsed.ok) return this.malformed(topic, parsed.error);
    const obj = parsed.value;
    const gw = this.gateway.name;
    switch (topic) {
      case T.GW_TELEMETRY:
        return this.telemetry(topic, obj);
      case T.GW_CONNECT: {
        const r = P.parseConnect(obj);
        if (!r.ok) return this.malformed(topic, r.error);
        this.connectDevice(topic, r.value.device, r.value.type, false);
        return OK;
      }
      case T.GW_DISCONNECT: {
        const r = P.parseDisconnect(obj);
        if (!r.ok) return this.malformed(topic, r.error);
        const name = r.value.device;
        // The server charges the session-closed event but has no callback to refuse it with.
        this.platform.rateLimitsOf(gw).devices.check(0);
        const was = this.devices.delete(name);
        this.platform.deregister(this, name);
        this.store.record(gw, topic, 'disconnect', name, { wasConnected: was });
        this.platform.log(`[${gw}] disconnect "${name}"`);
        return OK;
      }
      case T.GW_ATTRIBUTES: {
        const r = P.parseGatewayAttributes(obj);
        if (!r.ok) return this.malformed(topic, r.error);
        this.warn(topic, r.warnings);
        for (const { device, values } of r.value) {
          const quota = this.charge(topic, Object.keys(values).length, device);
          if (quota) return quota;
          const d = this.ensure(topic, device);
          for (const k in values) d.clientAttributes.set(k, values[k]);
          this.store.record(gw, topic, 'attributes', device, values);
          if (this.platform.logging) this.platform.log(`[${gw}] attributes "${device}" ${JSON.stringify(values)}`);
        }
        return OK;
      }
      case T.GW_ATTRIBUTES_REQUEST: {
        const r = P.parseAttributeRequest(obj);
        if (!r.ok) return this.malformed(topic, r.error);
        const quota = this.charge(topic, 0, r.value.device);
        if (quota) return quota;
        this.attributeRequest(topic, r.value);
        return OK;
      }
      case T.GW_RPC: {
        const r = P.parseRpcReply(obj);
        if (!r.ok) return this.malformed(topic, r.error);
        const { device, id, data } = r.value;
        const quota = this.charge(topic, 0, device);
        if (quota) return quota;
        this.ensure(topic, device);
        const pending = this.pendingDeviceRpc.get(id);
        const matched = pending !== undefined && pending.device === device;
        this.store.record(gw, topic, 'rpcReply', device, { id, data, matched });
        if (this.platform.logging) this.platform.log(`[${gw}] rpc reply "${device}" id=${id} ${JSON.stringify(data)}${matched ? '' : ' (no such pending request)'}`);
        if (matched && pending) {
          clearTimeout(pending.timer);
          this.pendingDeviceRpc.delete(id);
          pending.resolve(data);
        }
        return OK;
      }
      case T.GW_CLAIM: {
        const r = P.parseClaim(obj);
        if (!r.ok) return this.malformed(topic, r.error);
        this.warn(topic, r.warnings);
        for (const { device, claim } of r.value) {
          const quota = this.charge(topic, 0, device);
          if (quota) return quota;
          const d = this.ensure(topic, device);
          d.claims.push(claim);
          this.store.record(gw, topic, 'claim', device, claim);
          if (this.platform.logging) this.platform.log(`[${gw}] claim "${device}" ${JSON.stringify(claim)}`);
        }
        return OK;
      }
      default:
        this.store.record(gw, topic, 'refused', undefined, { reason: 'unknown topic' });
        this.platform.log(`[${gw}] ignored publish on unknown topic ${topic}`);
        return UNKNOWN_TOPIC;
    }
  }

  private telemetry(topic: string, obj: P.JsonObject): UplinkOutcome {
    const r = P.parseGatewayTelemetry(obj, Date.now());
    if (!r.ok) return this.malformed(topic, r.error);
    if (r.warnings.length) this.warn(topic, r.warnings);
    const gw = this.gateway.name;
    const counters = this.store.counters;
    counters.telemetryMessages++;
    for (const { device, points } of r.value) {
      const quota = this.charge(topic, countValues(points), device);
      if (quota) return quota;
      const d = this.ensure(topic, device);
      counters.telemetryPoints += points.length;
      counters.telemetryValues += countValues(points);
      if (!this.platform.recordTelemetry) continue;
      for (const p of points) this.store.addPoint(d, p.ts, p.values, p.serverTs);
      this.store.record(gw, topic, 'telemetry', device, { points: points.length });
      if (this.platform.logging) {
        for (const p of points) this.platform.log(`[${gw}] telemetry "${device}" ts=${p.ts}${p.serverTs ? ' (server)' : ''} ${JSON.stringify(p.values)}`);
      }
    }
    return OK;
  }

  private attributeRequest(topic: string, req: P.AttributeRequestMsg): void {
    const gw = this.gateway.name;
    const d = this.ensure(topic, req.device);
    this.store.record(gw, topic, 'attributeRequest', req.device, { id: req.id, client: req.client, keys: req.keys });
    if (this.platform.failingLookups.has('*') || this.platform.failingLookups.has(req.device)) {
      this.platform.log(`[${gw}] attribute request id=${req.id} for "${req.device}": lookup failed, no response`);
      return;
    }
    const res: Record<string, unknown> = { id: req.id, device: req.device };
    const all = req.keys.length === 0;
    const pick = (m: Map<string, unknown>): Array<[string, unknown]> => (all ? [...m] : req.keys.filter((k) => m.has(k)).map((k) => [k, m.get(k)]));
    // The server fills "value" when a scope yields exactly one entry, else merges into "values".
    if (all || req.client) addValues(res, pick(d.clientAttributes));
    if (all || !req.client) addValues(res, pick(d.sharedAttributes));
    this.deliver(T.GW_ATTRIBUTES_RESPONSE, JSON.stringify(res));
  }

  private ownUplink(topic: string, payload: Buffer): UplinkOutcome {
    const gw = this.gateway.name;
    const self = this.store.getOrCreate(gw, 'default', gw, true).device;
    if (topic.startsWith(T.ME_RPC_RESPONSE_PREFIX)) {
      const id = T.requestIdOf(topic, T.ME_RPC_RESPONSE_PREFIX);
      if (id === undefined) return this.malformed(topic, 'request id in topic is not an integer');
      const quota = this.charge(topic, 0, undefined, true);
      if (quota) return quota;
      const data = tryJson(payload);
      const pending = this.pendingOwnRpc.get(id);
      this.store.record(gw, topic, 'rpcReply', gw, { id, data, matched: pending !== undefined });
      if (this.platform.logging) this.platform.log(`[${gw}] rpc reply (gateway) id=${id} ${JSON.stringify(data)}`);
      if (pending) {
        clearTimeout(pending.timer);
        this.pendingOwnRpc.delete(id);
        pending.resolve(data);
      }
      return OK;
    }
    if (topic.startsWith(T.ME_RPC_REQUEST_PREFIX)) {
      const id = T.requestIdOf(topic, T.ME_RPC_REQUEST_PREFIX);
      if (id === undefined) return this.malformed(topic, 'request id in topic is not an integer');
      const parsed = P.parseJsonObject(payload);
      if (!parsed.ok) return this.malformed(topic, parsed.error);
      const r = P.parseClientRpcRequest(parsed.value);
      if (!r.ok) return this.malformed(topic, r.error);
      const quota = this.charge(topic, 0, undefined, true);
      if (quota) return quota;
      this.store.record(gw, topic, 'gatewayRpc', gw, { id, method: r.value.method, params: r.value.params });
      this.platform.log(`[${gw}] gateway rpc id=${id} ${r.value.method}`);
      if (r.value.method === 'getSessionLimits') {
        this.deliver(T.ME_RPC_RESPONSE_PREFIX + id, JSON.stringify(this.platform.limits));
      } else {
        // what a rule chain answers (an "rpc call reply" node), when a test set one up
        const answer = this.platform.gatewayRpcAnswers.get(r.value.method);
        if (answer) this.deliver(T.ME_RPC_RESPONSE_PREFIX + id, JSON.stringify(answer(r.value.params)));
      }
      return OK;
    }
    if (topic.startsWith(T.ME_ATTRIBUTES_REQUEST_PREFIX)) {
      const id = T.requestIdOf(topic, T.ME_ATTRIBUTES_REQUEST_PREFIX);
      if (id === undefined) return this.malformed(topic, 'request id in topic is not an integer');
      const parsed = payload.length === 0 ? { ok: true as const, value: {} as P.JsonObject } : P.parseJsonObject(payload);
      if (!parsed.ok) return this.malformed(topic, parsed.error);
      const quota = this.charge(topic, 0, undefined, true);
      if (quota) return quota;
      const csv = (v: unknown) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : undefined);
      const ck = csv(parsed.value.clientKeys);
      const sk = csv(parsed.value.sharedKeys);
      const both = ck === undefined && sk === undefined;
      const res: Record<string, unknown> = {};
      const pick = (m: Map<string, unknown>, keys: string[] | undefined) => {
        const o: Record<string, unknown> = {};
        for (const [k, v] of m) if (!keys || keys.includes(k)) o[k] = v;
        return o;
      };
      if (ck || both) {
        const o = pick(self.clientAttributes, ck);
        if (Object.keys(o).length) res.client = o;
      }
      if (sk || both) {
        const o = pick(self.sharedAttributes, sk);
        if (Object.keys(o).length) res.shared = o;
      }
      this.store.record(gw, topic, 'attributeRequest', gw, { id, clientKeys: ck, sharedKeys: sk });
      this.deliver(T.ME_ATTRIBUTES_RESPONSE_PREFIX + id, JSON.stringify(res));
      return OK;
    }
    if (topic === T.ME_TELEMETRY) {
      let v: unknown;
      try {
        v = JSON.parse(payload.toString('utf8'));
      } catch {
        return this.malformed(topic, 'unparsable JSON');
      }
      const r = P.parseDeviceTelemetry(v, Date.now());
      if (!r.ok) return this.malformed(topic, r.error);
      const quota = this.charge(topic, countValues(r.value), undefined, true);
      if (quota) return quota;
      this.store.counters.telemetryMessages++;
      this.store.counters.telemetryPoints += r.value.length;
      this.store.counters.telemetryValues += countValues(r.value);
      if (this.platform.recordTelemetry) {
        for (const p of r.value) this.store.addPoint(self, p.ts, p.values, p.serverTs);
        this.store.record(gw, topic, 'telemetry', gw, { points: r.value.length });
      }
      return OK;
    }
    if (topic === T.ME_ATTRIBUTES) {
      const parsed = P.parseJsonObject(payload);
      if (!parsed.ok) return this.malformed(topic, parsed.error);
      const quota = this.charge(topic, Object.keys(parsed.value).length, undefined, true);
      if (quota) return quota;
      for (const k in parsed.value) if (parsed.value[k] !== null) self.clientAttributes.set(k, parsed.value[k]);
      this.store.record(gw, topic, 'attributes', gw, parsed.value);
      return OK;
    }
    this.store.record(gw, topic, 'refused', undefined, { reason: 'unknown topic' });
    return UNKNOWN_TOPIC;
  }

  // ---- downlinks -------------------------------------------------------------------------

  deliver(topic: string, payload: string | Buffer, force = false): boolean {
    if (!this.open) return false;
    const delivered = this.transport.deliver(topic, payload, force);
    if (!delivered) this.platform.log(`[${this.gateway.name}] NOT delivered (no subscription to ${T.filterFor(topic)}): ${topic}`);
    return delivered;
  }

  private request(map: Map<number, Pending>, device: string, send: (id: number) => void, timeoutMs: number, what: string): Promise<unknown> {
    const id = this.nextRequestId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        map.delete(id);
        reject(new Error(`${what} id=${id} to "${device}" timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      map.set(id, { device, resolve, reject, timer });
      send(id);
    });
  }

  /** Two-way RPC to a sub-device: {device, data:{id, method, params}} on v1/gateway/rpc. */
  deviceRpc(device: string, method: string, params: unknown, timeoutMs: number): Promise<unknown> {
    return this.request(this.pendingDeviceRpc, device, (id) => {
      this.deliver(T.GW_RPC, JSON.stringify({ device, data: { id, method, params } }));
    }, timeoutMs, `RPC ${method}`);
  }

  /** Server RPC to the gateway device itself on v1/devices/me/rpc/request/{id}. */
  ownRpc(method: string, params: unknown, timeoutMs: number): Promise<unknown> {
    return this.request(this.pendingOwnRpc, this.gateway.name, (id) => {
      this.deliver(T.ME_RPC_REQUEST_PREFIX + id, JSON.stringify({ method, params }));
    }, timeoutMs, `RPC ${method}`);
  }

  renameDevice(oldName: string, newName: string): void {
    if (!this.devices.delete(oldName)) return;
    this.devices.add(newName);
    // The server waits on the device entity, not its name: a reply under the new name is its answer.
    for (const p of this.pendingDeviceRpc.values()) if (p.device === oldName) p.device = newName;
  }

  forgetDevice(name: string): void {
    this.devices.delete(name);
    this.platform.deregister(this, name);
  }

  /** The connection is gone: every sub-device is deregistered, waiting callers fail now. */
  closed(reason: string): void {
    if (!this.open) return;
    this.open = false;
    for (const d of this.devices) this.platform.deregister(this, d);
    const n = this.devices.size;
    this.devices.clear();
    for (const map of [this.pendingDeviceRpc, this.pendingOwnRpc]) {
      for (const p of map.values()) {
        clearTimeout(p.timer);
        p.reject(new Error(`gateway "${this.gateway.name}" disconnected before "${p.device}" answered`));
      }
      map.clear();
    }
    this.store.record(this.gateway.name, '', 'gatewayDisconnected', undefined, { reason, deregistered: n });
    this.platform.log(`[${this.gateway.name}] gateway disconnected (${reason}); ${n} device(s) deregistered`);
  }
}

function countValues(points: P.ParsedPoint[]): number {
  let n = 0;
  for (const p of points) for (const _k in p.values) n++;
  return n;
}

function addValues(res: Record<string, unknown>, found: Array<[string, unknown]>): void {
  if (found.length === 1) {
    res.value = found[0][1];
  } else if (found.length > 1) {
    const values = (res.values as Record<string, unknown> | undefined) ?? {};
    for (const [k, v] of found) values[k] = v;
    res.values = values;
  }
}
