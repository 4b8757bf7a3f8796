// The Watson IoT platform behind the broker: gateways and their tokens, the topic rules, devices
// registered automatically on a gateway's first publish or subscribe for them (at most 10
// registrations pending at a time, at most 500 active devices per gateway connection, a failed
// registration blocking the device for a while), the notifications of every refusal, and what
// the platform stored. The seed names the notifications but not their codes: RC follows HTTP
// (see NOTIFY).
import { MAX_PAYLOAD, type WatsonConnection } from './connection';
import { DeviceManagement } from './dm';

export const NOTIFY = {
  topic: { rc: 403, message: 'Topic does not match with any allowed topic rules.' },
  type: { rc: 400, message: 'Device type is not valid.' },
  id: { rc: 400, message: 'Device id is not valid.' },
  gatewayMax: { rc: 429, message: 'Maximum number of devices per gateway has been reached.' },
  orgMax: { rc: 507, message: 'Maximum number of devices per organization has been reached.' },
  internal: { rc: 500, message: 'Failed to create device due to internal errors.' },
} as const;

export interface WatsonGateway {
  typeId: string;
  deviceId: string;
  token: string;
}

export interface StoredEvent {
  type: string;
  id: string;
  event: string;
  format: string;
  /** JSON bodies parsed, others as text. */
  payload: unknown;
  at: number;
}

export interface Notification {
  Request: 'publish' | 'subscribe';
  Time: string;
  Topic: string;
  Type: string;
  Id: string;
  Client: string;
  RC: number;
  Message: string;
}

export interface PlatformOptions {
  org: string;
  maxDevicesPerGateway: number;
  maxDevicesPerOrg: number;
  maxPendingRegistrations: number;
  /** How long one auto-registration takes (0: at once). */
  registrationMs: number;
  /** How long a device whose registration failed has its messages dropped. */
  retryAfterMs: number;
}

const NAME = /^[A-Za-z0-9\-_.]{1,36}$/;
const key = (type: string, id: string): string => `${type}/${id}`;

export class WatsonPlatform {
  readonly gateways = new Map<string, WatsonGateway>();
  /** Registered devices (type/id), the gateways included. */
  readonly devices = new Set<string>();
  readonly events: StoredEvent[] = [];
  readonly notifications: Notification[] = [];
  readonly violations: string[] = [];
  readonly sessions = new Set<WatsonConnection>();
  /** Devices active in each gateway connection (the count resets on disconnect). */
  private readonly active = new Map<WatsonConnection, Set<string>>();
  private readonly pending = new Map<string, Array<() => void>>();
  private readonly waiting: Array<() => void> = [];
  private readonly blocked = new Map<string, number>();
  private readonly failNext = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** The device management protocol (managed gateways), on the same connections. */
  readonly dm = new DeviceManagement({
    admit: (c, topic, type, id, then) => this.admit(c, 'publish', topic, type, id, then),
    violation: (c, what) => this.violation(c, what),
    log: (line) => this.log(line),
    topicRefused: (c, topic, type, id) => this.notify(c, 'publish', topic, type, id, NOTIFY.topic),
  });

  constructor(readonly opts: PlatformOptions, readonly log: (line: string) => void) {}

  addGateway(g: WatsonGateway): void {
    this.gateways.set(key(g.typeId, g.deviceId), g);
    this.devices.add(key(g.typeId, g.deviceId));
  }

  authenticate(clientId: string, username: string, password: string): { typeId: string; deviceId: string } | { rc: number; reason: string } {
    const parts = clientId.split(':');
    if (parts.length !== 4 || parts[0] !== 'g') return { rc: 2, reason: `client id "${clientId}" is not g:{org}:{type}:{id}` };
    const [, org, typeId, deviceId] = parts;
    if (org !== this.opts.org) return { rc: 2, reason: `client id "${clientId}": unknown organisation "${org}"` };
    if (!NAME.test(typeId) || !NAME.test(deviceId)) return { rc: 2, reason: `client id "${clientId}": type and id must be at most 36 of [A-Za-z0-9-_.]` };
    const gw = this.gateways.get(key(typeId, deviceId));
    if (!gw) return { rc: 5, reason: `no gateway ${typeId}/${deviceId} in organisation ${org}` };
    if (username !== 'use-token-auth') return { rc: 4, reason: `username "${username}": gateways authenticate with "use-token-auth"` };
    if (password !== gw.token) return { rc: 4, reason: `wrong token for gateway ${typeId}/${deviceId}` };
    return { typeId, deviceId };
  }

  refused(reason: string): void {
    this.log(`CONNECT refused: ${reason}`);
  }

  connected(c: WatsonConnection): void {
    // One connection per client id: the older one is closed, as an MQTT broker does.
    for (const s of [...this.sessions]) if (s.clientId === c.clientId) s.destroy('taken over by a new connection with the same client id');
    this.sessions.add(c);
    this.active.set(c, new Set());
    this.log(`gateway ${c.gateway} connected`);
  }

  disconnected(c: WatsonConnection, reason: string): void {
    this.sessions.delete(c);
    this.active.delete(c);
    this.log(`gateway ${c.gateway} disconnected: ${reason}`);
  }

  violation(c: WatsonConnection, what: string): void {
    this.violations.push(`[${c.gateway}] ${what}`);
    this.log(`[${c.gateway}] ${what}`);
  }

  private notify(c: WatsonConnection, request: 'publish' | 'subscribe', topic: string, type: string, id: string, n: { rc: number; message: string }): void {
    const note: Notification = { Request: request, Time: new Date().toISOString(), Topic: topic, Type: type, Id: id, Client: c.clientId, RC: n.rc, Message: n.message };
    this.notifications.push(note);
    this.log(`[${c.gateway}] notify ${request} ${topic}: ${n.rc} ${n.message}`);
    c.deliver(`iot-2/type/${c.typeId}/id/${c.deviceId}/notify`, Buffer.from(JSON.stringify(note)), 0);
  }

  /**
   * Makes `type/id` active for the gateway, registering it first when it is new; `then` runs once it
   * may send. False when the platform refuses it (a notification is sent, or it is dropped silently
   * while blocked after a failed registration).
   */
  private admit(c: WatsonConnection, request: 'publish' | 'subscribe', topic: string, type: string, id: string, then: () => void): boolean {
    const k = key(type, id);
    const active = this.active.get(c) as Set<string>;
    if (active.has(k) || (type === c.typeId && id === c.deviceId)) {
      then();
      return true;
    }
    const until = this.blocked.get(k);
    if (until !== undefined && until > Date.now()) {
      this.log(`[${c.gateway}] dropped ${request} ${topic}: ${k} failed registration recently`);
      return false;
    }
    if (active.size >= this.opts.maxDevicesPerGateway) {
      this.notify(c, request, topic, type, id, NOTIFY.gatewayMax);
      return false;
    }
    if (this.devices.has(k)) {
      active.add(k);
      then();
      return true;
    }
    if (this.devices.size + this.pending.size >= this.opts.maxDevicesPerOrg) {
      this.notify(c, request, topic, type, id, NOTIFY.orgMax);
      return false;
    }
    if (this.failNext.delete(k)) {
      this.blocked.set(k, Date.now() + this.opts.retryAfterMs);
      this.notify(c, request, topic, type, id, NOTIFY.internal);
      return false;
    }
    active.add(k);
    const queued = this.pending.get(k);
    if (queued) {
      queued.push(then);
      return true;
    }
    this.pending.set(k, [then]);
    const register = (): void => {
      const done = (): void => {
        this.devices.add(k);
        this.log(`[${c.gateway}] registered device ${k}`);
        const list = this.pending.get(k) ?? [];
        this.pending.delete(k);
        for (const f of list) f();
        this.waiting.shift()?.();
      };
      if (this.opts.registrationMs <= 0) return done();
      const t = setTimeout(() => {
        this.timers.delete(t);
        done();
      }, this.opts.registrationMs);
      this.timers.add(t);
    };
    // At most maxPendingRegistrations at a time: the rest wait their turn (delayed, not refused).
    const running = this.pending.size - this.waiting.length - 1;
    if (running >= this.opts.maxPendingRegistrations) this.waiting.push(register);
    else register();
    return true;
  }

  /** A gateway's publish: the topic rules, then the device's registration, then the event is stored. */
  uplink(c: WatsonConnection, topic: string, payload: Buffer): void {
    if (this.dm.uplink(c, topic, payload)) return;
    const s = topic.split('/');
    if (s.length !== 9 || s[0] !== 'iot-2' || s[1] !== 'type' || s[3] !== 'id' || s[5] !== 'evt' || s[7] !== 'fmt' || s[6] === '' || s[8] === '') {
      return this.notify(c, 'publish', topic, s[2] ?? '', s[4] ?? '', NOTIFY.topic);
    }
    const [type, id, event, format] = [s[2], s[4], s[6], s[8]];
    if (!NAME.test(type)) return this.notify(c, 'publish', topic, type, id, NOTIFY.type);
    if (!NAME.test(id)) return this.notify(c, 'publish', topic, type, id, NOTIFY.id);
    let body: unknown = payload.toString('utf8');
    if (format === 'json') {
      try {
        body = JSON.parse(body as string);
      } catch {
        this.violation(c, `an event on ${topic} is not JSON although its format is json`);
      }
    }
    this.admit(c, 'publish', topic, type, id, () => {
      this.events.push({ type, id, event, format, payload: body, at: Date.now() });
      this.log(`[${c.gateway}] event ${type}/${id} ${event}: ${payload.length <= 200 ? payload.toString('utf8') : `${payload.length} bytes`}`);
    });
  }

  /** Whether the gateway may subscribe to `filter`: its notify topic, commands (+ in any of the 4 places), device management. */
  subscribe(c: WatsonConnection, filter: string): boolean {
    const s = filter.split('/');
    const own = `iot-2/type/${c.typeId}/id/${c.deviceId}/notify`;
    if (filter === own) return true;
    if (s[0] === 'iotdm-1' && s[1] === 'type' && s[3] === 'id') return true;
    const ok = s.length === 9 && s[0] === 'iot-2' && s[1] === 'type' && s[3] === 'id' && s[5] === 'cmd' && s[7] === 'fmt' && [2, 4, 6, 8].every((i) => s[i] !== '' && s[i] !== '#');
    if (!ok) {
      this.notify(c, 'subscribe', filter, s[2] ?? '', s[4] ?? '', NOTIFY.topic);
      return false;
    }
    const [type, id] = [s[2], s[4]];
    if (type !== '+' && !NAME.test(type)) {
      this.notify(c, 'subscribe', filter, type, id, NOTIFY.type);
      return false;
    }
    if (id !== '+' && !NAME.test(id)) {
      this.notify(c, 'subscribe', filter, type, id, NOTIFY.id);
      return false;
    }
    if (type === '+' || id === '+') return true;
    this.log(`[${c.gateway}] subscribed ${filter}`);
    return this.admit(c, 'subscribe', filter, type, id, () => undefined);
  }

  failRegistration(type: string, id: string): void {
    this.failNext.add(key(type, id));
  }

  activeDevices(c: WatsonConnection): number {
    return this.active.get(c)?.size ?? 0;
  }

  /** Sends to every gateway connection subscribed to `topic`; how many got it. */
  send(topic: string, payload: Buffer): number {
    let n = 0;
    for (const c of this.sessions) if (c.deliver(topic, payload)) n++;
    return n;
  }

  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}

export { MAX_PAYLOAD };
