// The device management side of the Watson IoT emulator (shared/protocols/watson.md, "Managed
// gateway"): a managed gateway publishes requests {"d", "reqId"} on iotdevice-1/type/T/id/D/...
// (mgmt/manage, mgmt/unmanage, device/update/location, add|clear/diag/errorCodes|log) and answers
// the platform's requests on .../response; the platform answers {rc, message?, reqId} on
// iotdm-1/type/T/id/D/response and initiates device actions on
// iotdm-1/type/T/id/D/mgmt/initiate/device/reboot | factory_reset.
// Where the docs are silent: every accepted request is answered 200; a malformed one (bad lifetime,
// supports not booleans, location without numeric latitude/longitude, errorCode not an integer, log
// without a message) 400; unmanage, location or diagnostics of a device that is not managed 404; a
// manage without deviceInfo or metadata keeps the ones the device had.
import type { WatsonConnection } from './connection';

export type DeviceAction = 'reboot' | 'factory_reset';

export interface ManagedDevice {
  type: string;
  id: string;
  lifetime: number;
  supports: { deviceActions: boolean; firmwareActions: boolean };
  deviceInfo: Record<string, unknown>;
  metadata: Record<string, unknown>;
  /** How many manage requests the platform accepted for it (renewals and re-manages count). */
  manages: number;
  lastManagedAt: number;
  location?: Record<string, unknown>;
  errorCodes: number[];
  log: Array<Record<string, unknown>>;
}

export interface DmRequest {
  type: string;
  id: string;
  /** The request's topic after iotdevice-1/type/T/id/D/. */
  op: string;
  body: unknown;
  rc?: number;
}

export interface ActionResponse {
  rc: unknown;
  message?: unknown;
  at: number;
}

interface Initiated {
  type: string;
  id: string;
  action: DeviceAction;
  response?: ActionResponse;
}

export interface DmHost {
  /** Auto-registration and the device limits, as for events (false: refused, a notification went out). */
  admit(c: WatsonConnection, topic: string, type: string, id: string, then: () => void): boolean;
  violation(c: WatsonConnection, what: string): void;
  log(line: string): void;
  topicRefused(c: WatsonConnection, topic: string, type: string, id: string): void;
}

const OPS = new Set(['mgmt/manage', 'mgmt/unmanage', 'device/update/location', 'add/diag/errorCodes', 'clear/diag/errorCodes', 'add/diag/log', 'clear/diag/log', 'response', 'notify']);
const key = (type: string, id: string): string => `${type}/${id}`;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export class DeviceManagement {
  readonly managed = new Map<string, ManagedDevice>();
  readonly requests: DmRequest[] = [];
  private readonly initiated = new Map<string, Initiated>();
  /** Test knobs: the next manage of type/id answered with this rc; all requests unanswered. */
  private readonly refuseNext = new Map<string, { rc: number; message: string }>();
  silent = false;
  private nextReq = 1;

  constructor(private readonly host: DmHost) {}

  /** A gateway's publish on iotdevice-1/…; false when the topic is not a device management one. */
  uplink(c: WatsonConnection, topic: string, payload: Buffer): boolean {
    const s = topic.split('/');
    if (s[0] !== 'iotdevice-1') return false;
    const op = s.slice(5).join('/');
    if (s.length < 6 || s[1] !== 'type' || s[3] !== 'id' || !OPS.has(op)) {
      this.host.topicRefused(c, topic, s[2] ?? '', s[4] ?? '');
      return true;
    }
    const [type, id] = [s[2], s[4]];
    let body: unknown;
    try {
      body = JSON.parse(payload.toString('utf8'));
    } catch {
      this.host.violation(c, `a device management message on ${topic} is not JSON`);
      return true;
    }
    if (op === 'notify') return true;
    if (op === 'response') {
      this.response(c, topic, body);
      return true;
    }
    const reqId = isObject(body) ? body.reqId : undefined;
    if (typeof reqId !== 'string' || reqId === '') {
      this.host.violation(c, `a device management request on ${topic} has no reqId: it cannot be answered`);
      return true;
    }
    const request: DmRequest = { type, id, op, body };
    this.requests.push(request);
    this.host.admit(c, topic, type, id, () => {
      const verdict = this.handle(type, id, op, isObject((body as Record<string, unknown>).d) ? ((body as Record<string, unknown>).d as Record<string, unknown>) : {});
      request.rc = verdict.rc;
      this.host.log(`[${c.gateway}] dm ${op} ${type}/${id}: ${verdict.rc}${verdict.message ? ` ${verdict.message}` : ''}`);
      if (this.silent) return;
      const answer: Record<string, unknown> = { rc: verdict.rc, reqId };
      if (verdict.message) answer.message = verdict.message;
      c.deliver(`iotdm-1/type/${type}/id/${id}/response`, Buffer.from(JSON.stringify(answer)));
    });
    return true;
  }

  private handle(type: string, id: string, op: string, d: Record<string, unknown>): { rc: number; message?: string } {
    const k = key(type, id);
    const device = this.managed.get(k);
    if (op === 'mgmt/manage') {
      const refusal = this.refuseNext.get(k);
      if (refusal) {
        this.refuseNext.delete(k);
        return refusal;
      }
      const lifetime = d.lifetime ?? 0;
      if (typeof lifetime !== 'number' || !Number.isInteger(lifetime) || (lifetime !== 0 && lifetime < 3600)) return { rc: 400, message: 'lifetime must be 0 or at least 3600 seconds' };
      const supports = d.supports ?? {};
      if (!isObject(supports) || Object.values(supports).some((v) => typeof v !== 'boolean')) return { rc: 400, message: 'supports must be an object of booleans' };
      if ((d.deviceInfo !== undefined && !isObject(d.deviceInfo)) || (d.metadata !== undefined && !isObject(d.metadata))) return { rc: 400, message: 'deviceInfo and metadata must be objects' };
      const next: ManagedDevice = {
        type,
        id,
        lifetime,
        supports: { deviceActions: supports.deviceActions === true, firmwareActions: supports.firmwareActions === true },
        // A manage without them (a renewal, a gateway restarted) leaves what the device had.
        deviceInfo: (d.deviceInfo as Record<string, unknown>) ?? device?.deviceInfo ?? {},
        metadata: (d.metadata as Record<string, unknown>) ?? device?.metadata ?? {},
        manages: (device?.manages ?? 0) + 1,
        lastManagedAt: Date.now(),
        location: device?.location,
        errorCodes: device?.errorCodes ?? [],
        log: device?.log ?? [],
      };
      this.managed.set(k, next);
      return { rc: 200 };
    }
    if (!device) return { rc: 404, message: `device ${k} is not managed` };
    switch (op) {
      case 'mgmt/unmanage':
        this.managed.delete(k);
        return { rc: 200 };
      case 'device/update/location':
        if (typeof d.latitude !== 'number' || typeof d.longitude !== 'number') return { rc: 400, message: 'latitude and longitude must be numbers' };
        device.location = d;
        return { rc: 200 };
      case 'add/diag/errorCodes':
        if (typeof d.errorCode !== 'number' || !Number.isInteger(d.errorCode)) return { rc: 400, message: 'errorCode must be an integer' };
        device.errorCodes.push(d.errorCode);
        return { rc: 200 };
      case 'clear/diag/errorCodes':
        device.errorCodes = [];
        return { rc: 200 };
      case 'add/diag/log':
        if (typeof d.message !== 'string') return { rc: 400, message: 'message must be a string' };
        if (d.severity !== undefined && d.severity !== 0 && d.severity !== 1 && d.severity !== 2) return { rc: 400, message: 'severity must be 0, 1 or 2' };
        device.log.push(d);
        return { rc: 200 };
      default:
        device.log = [];
        return { rc: 200 };
    }
  }

  private response(c: WatsonConnection, topic: string, body: unknown): void {
    const reqId = isObject(body) ? body.reqId : undefined;
    const req = typeof reqId === 'string' ? this.initiated.get(reqId) : undefined;
    if (!req || req.response) {
      this.host.violation(c, `a response on ${topic} to no open request (reqId ${JSON.stringify(reqId)})`);
      return;
    }
    const b = body as Record<string, unknown>;
    req.response = { rc: b.rc, message: b.message, at: Date.now() };
    this.host.log(`[${c.gateway}] ${req.action} of ${key(req.type, req.id)} answered ${String(b.rc)}`);
  }

  /** Initiates a device action; its reqId. Throws as the platform's API refuses it (not managed, no device actions). */
  initiate(type: string, id: string, action: DeviceAction, send: (topic: string, payload: Buffer) => number): string {
    const device = this.managed.get(key(type, id));
    if (!device) throw new Error(`${key(type, id)} is not a managed device`);
    if (!device.supports.deviceActions) throw new Error(`${key(type, id)} does not support device actions`);
    const reqId = `emu-${this.nextReq++}`;
    this.initiated.set(reqId, { type, id, action });
    send(`iotdm-1/type/${type}/id/${id}/mgmt/initiate/device/${action}`, Buffer.from(JSON.stringify({ reqId })));
    return reqId;
  }

  actionResponse(reqId: string): ActionResponse | undefined {
    return this.initiated.get(reqId)?.response;
  }

  refuseManage(type: string, id: string, rc: number, message: string): void {
    this.refuseNext.set(key(type, id), { rc, message });
  }
}
