// ThingsPanel's backend as a gateway meets it (shared/protocols/thingspanel.md): vouchers, the
// gateway's device number in its topics, sub-devices known by address (created in the UI: no
// auto-registration, unknown addresses skipped), arrays in telemetry fail the whole message, acks
// on devices/… response topics, nesting processed to depth 5. Independent of lib/.
import type { Session } from './connection';
import { matches } from '../mqtt-peer';

export const MAX_DEPTH = 5;

export interface TpGateway {
  deviceNumber: string;
  /** The voucher: BASIC = username + password; ACCESSTOKEN = username only (password empty). */
  username: string;
  password?: string;
}

export interface StoredPoint {
  ts: number;
  values: Record<string, unknown>;
}

export interface StoredEvent {
  ts: number;
  method: string;
  params: unknown;
}

export interface DeviceState {
  telemetry: StoredPoint[];
  attributes: Record<string, unknown>;
  events: StoredEvent[];
}

export interface JournalEntry {
  deviceNumber: string;
  topic: string;
  kind: string;
  detail?: unknown;
}

/** Where the backend publishes the acks of attribute reports and events. */
export type AckMode = 'devices' | 'gateway' | 'none';

interface Pending {
  resolve: (body: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

interface Member {
  path: string;
  value: unknown;
}

export class TpPlatform {
  readonly gateways = new Map<string, TpGateway>();
  /** Per gateway device number: its devices by path ("" = the gateway itself, "a/b" = b under sub-gateway a). */
  readonly devices = new Map<string, Map<string, DeviceState>>();
  readonly sessions = new Set<Session>();
  readonly journalEntries: JournalEntry[] = [];
  readonly violations: string[] = [];
  ackMode: AckMode = 'devices';
  private readonly failures = new Map<string, Array<{ errcode: string; message: string }>>();
  private readonly pending = new Map<string, Pending>();
  private seq = 0x1a2b0000;

  constructor(readonly log: (line: string) => void) {}

  addGateway(g: TpGateway): void {
    this.gateways.set(g.deviceNumber, g);
    if (!this.devices.has(g.deviceNumber)) this.devices.set(g.deviceNumber, new Map([['', { telemetry: [], attributes: {}, events: [] }]]));
  }

  addSubDevice(deviceNumber: string, path: string): void {
    const devs = this.devices.get(deviceNumber);
    if (!devs) throw new Error(`no gateway ${deviceNumber}`);
    const segs = path.split('/');
    if (segs.some((s) => s === '' || s.length > 36)) throw new Error(`bad sub-device address path "${path}"`);
    for (let i = 1; i <= segs.length; i++) {
      const p = segs.slice(0, i).join('/');
      if (!devs.has(p)) devs.set(p, { telemetry: [], attributes: {}, events: [] });
    }
  }

  record(deviceNumber: string, topic: string, kind: string, detail?: unknown): void {
    this.journalEntries.push({ deviceNumber, topic, kind, detail });
  }

  violation(deviceNumber: string, what: string): void {
    this.violations.push(`${deviceNumber}: ${what}`);
    this.log(`[${deviceNumber}] RULE BROKEN: ${what}`);
  }

  refused(reason: string): void {
    this.record('', '', 'refused', { reason });
    this.log(`refused CONNECT: ${reason}`);
  }

  /** The gateway's device number for a voucher, or why it is refused. */
  authenticate(username: string, password: string): { deviceNumber: string } | string {
    if (username === 'root' || username === 'plugin') return `"${username}" is a platform user`;
    for (const g of this.gateways.values()) {
      if (g.username !== username) continue;
      if ((g.password ?? '') === password) return { deviceNumber: g.deviceNumber };
    }
    return 'bad voucher (username/password)';
  }

  connected(s: Session): void {
    this.sessions.add(s);
    this.record(s.deviceNumber, '', 'connected', { clientId: s.clientId });
    this.log(`[${s.deviceNumber}] gateway connected (client id "${s.clientId}")`);
  }

  disconnected(s: Session, reason: string): void {
    this.sessions.delete(s);
    this.record(s.deviceNumber, '', 'disconnected', { reason });
    this.log(`[${s.deviceNumber}] gateway disconnected: ${reason}`);
  }

  /** The ACL: a gateway subscribes only to its own downlink topics; no wildcard in the device number. */
  maySubscribe(deviceNumber: string, filter: string): boolean {
    const dn = deviceNumber;
    const allowed = [
      `gateway/telemetry/control/${dn}`,
      `gateway/attributes/set/${dn}/+`,
      `gateway/attributes/get/${dn}`,
      `gateway/command/${dn}/+`,
      `gateway/attributes/response/${dn}/+`,
      `gateway/event/response/${dn}/+`,
      `devices/attributes/response/${dn}/+`,
      `devices/event/response/${dn}/+`,
    ];
    return allowed.includes(filter);
  }

  subscribed(deviceNumber: string, topic: string): boolean {
    for (const s of this.sessions) if (s.deviceNumber === deviceNumber && s.subscribed.some((f) => matches(f, topic))) return true;
    return false;
  }

  messageId(): string {
    this.seq = (this.seq + 1) >>> 0;
    return this.seq.toString(16).padStart(8, '0');
  }

  /** Publishes to the gateway's sessions; false when none received it (not connected or not subscribed). */
  publish(deviceNumber: string, topic: string, body: unknown): boolean {
    let sent = false;
    for (const s of this.sessions) if (s.deviceNumber === deviceNumber && s.deliver(topic, JSON.stringify(body))) sent = true;
    this.record(deviceNumber, topic, 'downlink', { body, delivered: sent });
    this.log(`[${deviceNumber}] → ${topic} ${JSON.stringify(body)}${sent ? '' : ' (not delivered: no session subscribed)'}`);
    return sent;
  }

  /** Sends a message that expects an answer on `…/response/{message_id}`; resolves with the answer. */
  request(deviceNumber: string, topicOf: (mid: string) => string, body: unknown, timeoutMs: number): Promise<unknown> {
    const mid = this.messageId();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(mid);
        reject(new Error(`no response to ${topicOf(mid)} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(mid, { resolve, reject, timer });
      this.publish(deviceNumber, topicOf(mid), body);
    });
  }

  failNextAck(kind: 'attributes' | 'event', errcode: string, message: string): void {
    const list = this.failures.get(kind) ?? [];
    list.push({ errcode, message });
    this.failures.set(kind, list);
  }

  stop(): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error('emulator stopped'));
    }
    this.pending.clear();
  }

  // ---- uplinks ----------------------------------------------------------------------------

  uplink(s: Session, topic: string, text: string): void {
    const dn = s.deviceNumber;
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      this.record(dn, topic, 'dropped', { reason: 'invalid JSON' });
      return this.log(`[${dn}] ${topic}: invalid JSON, dropped`);
    }
    const segs = topic.split('/');
    if (topic === 'gateway/telemetry') return this.telemetry(dn, topic, body);
    if (segs.length === 3 && segs[0] === 'gateway' && segs[1] === 'attributes') return this.attributes(dn, topic, body, segs[2]);
    if (segs.length === 3 && segs[0] === 'gateway' && segs[1] === 'event') return this.events(dn, topic, body, segs[2]);
    if (segs.length === 4 && topic.startsWith('gateway/command/response/')) return this.answered(dn, topic, body, segs[3]);
    if (segs.length === 5 && topic.startsWith('gateway/attributes/set/response/')) return this.answered(dn, topic, body, segs[4]);
    this.record(dn, topic, 'unknown topic');
    this.log(`[${dn}] ${topic}: not a ThingsPanel gateway topic, ignored`);
  }

  /** The envelope's members to depth 5; a string when the envelope is not one. */
  private members(env: unknown, prefix: string, depth: number, out: Member[], dn: string): string | null {
    if (!isObject(env)) return 'not an envelope object';
    if ('gateway_data' in env) out.push({ path: prefix.replace(/\/$/, ''), value: env.gateway_data });
    if (env.sub_device_data !== undefined) {
      if (!isObject(env.sub_device_data)) return 'sub_device_data is not an object';
      for (const [addr, value] of Object.entries(env.sub_device_data)) out.push({ path: prefix + addr, value });
    }
    if (env.sub_gateway_data !== undefined) {
      if (!isObject(env.sub_gateway_data)) return 'sub_gateway_data is not an object';
      if (depth >= MAX_DEPTH) {
        this.log(`[${dn}] sub_gateway_data deeper than ${MAX_DEPTH} ignored`);
        return null;
      }
      for (const [addr, inner] of Object.entries(env.sub_gateway_data)) {
        const p = this.members(inner, prefix + addr + '/', depth + 1, out, dn);
        if (p) return p;
      }
    }
    return null;
  }

  /** Members whose address the gateway has (the others are skipped, as the backend does). */
  private known(dn: string, topic: string, body: unknown): Array<{ path: string; value: unknown; state: DeviceState }> | undefined {
    const out: Member[] = [];
    const problem = this.members(body, '', 0, out, dn);
    if (problem) {
      this.record(dn, topic, 'dropped', { reason: problem });
      this.log(`[${dn}] ${topic}: ${problem}, dropped`);
      return undefined;
    }
    const devs = this.devices.get(dn) ?? new Map<string, DeviceState>();
    const found: Array<{ path: string; value: unknown; state: DeviceState }> = [];
    for (const m of out) {
      const state = devs.get(m.path);
      if (!state) {
        this.record(dn, topic, 'skipped', { address: m.path, reason: 'sub device not found' });
        this.log(`[${dn}] ${topic}: sub device not found: "${m.path}", skipped`);
        continue;
      }
      found.push({ ...m, state });
    }
    return found;
  }

  private telemetry(dn: string, topic: string, body: unknown): void {
    const found = this.known(dn, topic, body);
    if (!found) return;
    // The seed's historical mode is not implemented: an array fails the whole message.
    const bad = found.find((m) => !isObject(m.value));
    if (bad) {
      this.record(dn, topic, 'dropped', { reason: `"${bad.path || 'gateway_data'}" is ${Array.isArray(bad.value) ? 'an array (historical mode is not implemented)' : 'not an object'}` });
      return this.log(`[${dn}] ${topic}: "${bad.path || 'gateway_data'}" is not an object of values: the whole message fails`);
    }
    const ts = Date.now(); // stored telemetry is stamped with the server's time
    for (const m of found) m.state.telemetry.push({ ts, values: m.value as Record<string, unknown> });
    this.record(dn, topic, 'telemetry', body);
    this.log(`[${dn}] telemetry ${found.map((m) => `${m.path || '(gateway)'} ${JSON.stringify(m.value)}`).join(', ')}`);
  }

  private attributes(dn: string, topic: string, body: unknown, mid: string): void {
    const found = this.known(dn, topic, body);
    if (!found) return;
    for (const m of found) if (isObject(m.value)) Object.assign(m.state.attributes, m.value);
    this.record(dn, topic, 'attributes', body);
    this.log(`[${dn}] attributes ${mid} ${found.map((m) => `${m.path || '(gateway)'} ${JSON.stringify(m.value)}`).join(', ')}`);
    this.ack(dn, 'attributes', mid);
  }

  private events(dn: string, topic: string, body: unknown, mid: string): void {
    const found = this.known(dn, topic, body);
    if (!found) return;
    const ts = Date.now();
    for (const m of found) {
      if (!isObject(m.value) || typeof m.value.method !== 'string') {
        this.log(`[${dn}] ${topic}: "${m.path}" is not {method, params}, skipped`);
        continue;
      }
      m.state.events.push({ ts, method: m.value.method, params: m.value.params });
    }
    this.record(dn, topic, 'event', body);
    this.log(`[${dn}] event ${mid} ${found.map((m) => `${m.path || '(gateway)'} ${JSON.stringify(m.value)}`).join(', ')}`);
    this.ack(dn, 'event', mid);
  }

  private ack(dn: string, kind: 'attributes' | 'event', mid: string): void {
    if (this.ackMode === 'none') return;
    const fail = this.failures.get(kind)?.shift();
    const ts = Math.floor(Date.now() / 1000);
    const body = fail ? { result: 1, errcode: fail.errcode, message: fail.message, ts } : { result: 0, message: 'success', ts };
    this.publish(dn, `${this.ackMode}/${kind}/response/${dn}/${mid}`, body);
  }

  private answered(dn: string, topic: string, body: unknown, mid: string): void {
    const p = this.pending.get(mid);
    this.record(dn, topic, 'response', { body, matched: !!p });
    this.log(`[${dn}] response ${mid} ${JSON.stringify(body)}${p ? '' : ' (no request waits for it)'}`);
    if (!p) return;
    clearTimeout(p.timer);
    this.pending.delete(mid);
    p.resolve(body);
  }
}
