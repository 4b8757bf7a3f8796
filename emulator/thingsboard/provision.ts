// Device provisioning the way ThingsBoard does it (MqttTransportHandler's provision session,
// DeviceProvisionServiceImpl, DeviceServiceImpl.saveDevice(ProvisionRequest), JsonConverter):
//  - a CONNECT with username or client id "provision" opens a provisioning session (no password
//    is checked); it may subscribe to /provision/response and publish /provision/request only;
//  - the request {provisionDeviceKey, provisionDeviceSecret, deviceName?, credentialsType?,
//    token? | username?, password?, clientId?, gateway?} is looked up by key: an unknown key or a
//    wrong secret → {"status":"NOT_FOUND","errorMsg":"Provision data was not found!"};
//  - strategy "allow-create" (ALLOW_CREATE_NEW_DEVICES): a device of that name that exists already
//    → {"status":"FAILURE","errorMsg":"Failed to provision device!"} (never provisioned twice);
//    otherwise the device is created (profile = the device profile's name, "gateway": true when
//    asked) with the credentials the request brings, or a generated access token when it brings none;
//  - strategy "pre-provisioned" (CHECK_PRE_PROVISIONED_DEVICES): the device must exist and not be
//    provisioned yet, else FAILURE;
//  - SUCCESS: {"status":"SUCCESS","credentialsType":"ACCESS_TOKEN","credentialsValue":"<token>"} or
//    "MQTT_BASIC" with credentialsValue {clientId, userName, password};
//  - the answer is written on /provision/response whether subscribed or not; the server closes the
//    connection 60 s later. Any other publish closes it at once.
// This emulator serves gateway sessions only: a device provisioned without "gateway": true gets its
// credentials, but a CONNECT with them is refused (not authorised), so a gateway that forgot to ask
// for the flag cannot pass for one.
import { randomBytes } from 'crypto';
import type { Platform } from './platform';
import type { GatewayConfig } from './types';

export const PROVISION_REQUEST = '/provision/request';
export const PROVISION_RESPONSE = '/provision/response';
export const PROVISION_USER = 'provision';
/** The server closes a provisioning connection this long after its answer. */
export const PROVISION_CLOSE_MS = 60000;

export interface ProvisionProfile {
  /** the device profile's provision device key and secret */
  key: string;
  secret: string;
  /** default "allow-create" */
  strategy?: 'allow-create' | 'pre-provisioned';
  /** the device profile's name: the type of the devices it creates; default "default" */
  profile?: string;
}

export type ProvisionResponse =
  | { status: 'SUCCESS'; credentialsType: 'ACCESS_TOKEN'; credentialsValue: string }
  | { status: 'SUCCESS'; credentialsType: 'MQTT_BASIC'; credentialsValue: { clientId?: string; userName: string; password: string } }
  | { status: 'NOT_FOUND' | 'FAILURE'; errorMsg: string };

/** One provisioning request as the emulator saw it, and its answer. */
export interface ProvisionAttempt {
  request: unknown;
  response: ProvisionResponse;
}

const NOT_FOUND: ProvisionResponse = { status: 'NOT_FOUND', errorMsg: 'Provision data was not found!' };
const FAILURE: ProvisionResponse = { status: 'FAILURE', errorMsg: 'Failed to provision device!' };

export function isProvisionConnect(username: string | undefined, clientId: string): boolean {
  return username === PROVISION_USER || clientId === PROVISION_USER;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v : undefined;
}

/** The platform's provisioning state: device profiles with provisioning, devices provisioned, attempts. */
export class Provisioning {
  readonly profiles: ProvisionProfile[] = [];
  readonly attempts: ProvisionAttempt[] = [];
  /** names with the server attribute provisionState = "provisioned" */
  private readonly provisioned = new Set<string>();
  /** credentials of provisioned devices that are not gateways (no gateway session accepts them) */
  private readonly plain = new Map<string, GatewayConfig>();

  constructor(private readonly platform: Platform) {}

  /** A device created beforehand for the "pre-provisioned" strategy (with its own access token). */
  preProvision(name: string, profile = 'default', gateway = false): void {
    this.platform.store.getOrCreate(name, profile, name, gateway);
  }

  handle(payload: Buffer): ProvisionResponse {
    let request: unknown;
    try {
      request = JSON.parse(payload.toString('utf8'));
    } catch {
      request = payload.toString('utf8');
    }
    const response = this.provision(request);
    this.attempts.push({ request, response });
    this.platform.log(`provisioning ${JSON.stringify(request)} → ${response.status}`);
    return response;
  }

  private provision(request: unknown): ProvisionResponse {
    if (typeof request !== 'object' || request === null || Array.isArray(request)) return FAILURE;
    const r = request as Record<string, unknown>;
    let name = typeof r.deviceName === 'string' ? r.deviceName.trim() : undefined;
    if (typeof r.deviceName === 'string' && name === '') return FAILURE;
    const key = str(r.provisionDeviceKey);
    const secret = str(r.provisionDeviceSecret);
    if (!key || !secret) return NOT_FOUND;
    const profile = this.profiles.find((p) => p.key === key);
    if (!profile || profile.secret !== secret) return NOT_FOUND;
    const existing = name ? this.platform.store.get(name) : undefined;
    if ((profile.strategy ?? 'allow-create') === 'pre-provisioned') {
      if (!existing || !name || this.provisioned.has(name)) return FAILURE;
      this.provisioned.add(name);
      return this.credentialsOf(name) ?? FAILURE;
    }
    if (existing) return FAILURE;
    if (!name) name = randomBytes(10).toString('hex');
    const type = r.credentialsType === 'MQTT_BASIC' ? 'MQTT_BASIC' : 'ACCESS_TOKEN';
    const gw: GatewayConfig = { name };
    const username = str(r.username);
    const password = str(r.password);
    if (type === 'MQTT_BASIC' && (username || password || str(r.clientId))) {
      if (!username) return FAILURE; // the server cannot save basic credentials without a user name
      gw.basic = { username, password: password ?? '', clientId: str(r.clientId) };
    } else {
      const token = str(r.token) ?? randomBytes(10).toString('hex');
      if ([...this.platform.gateways, ...this.plain.values()].some((g) => g.token === token)) return FAILURE; // credentials ids are unique
      gw.token = token;
    }
    this.platform.store.getOrCreate(name, profile.profile ?? 'default', name, r.gateway === true);
    if (r.gateway === true) this.platform.gateways.push(gw);
    else this.plain.set(name, gw);
    this.provisioned.add(name);
    return this.credentialsOf(name) ?? FAILURE;
  }

  private credentialsOf(name: string): ProvisionResponse | undefined {
    let gw = this.platform.gateways.find((g) => g.name === name) ?? this.plain.get(name);
    if (!gw) {
      // A pre-provisioned device made by the test without credentials: the server generated a token.
      gw = { name, token: randomBytes(10).toString('hex') };
      this.platform.gateways.push(gw);
    }
    if (gw.basic) return { status: 'SUCCESS', credentialsType: 'MQTT_BASIC', credentialsValue: { clientId: gw.basic.clientId, userName: gw.basic.username, password: gw.basic.password } };
    if (gw.token) return { status: 'SUCCESS', credentialsType: 'ACCESS_TOKEN', credentialsValue: gw.token };
    return undefined;
  }
}

const states = new WeakMap<Platform, Provisioning>();

export function provisioningOf(platform: Platform): Provisioning {
  let p = states.get(platform);
  if (!p) {
    p = new Provisioning(platform);
    states.set(platform, p);
  }
  return p;
}

/** What a provisioning connection needs of its MQTT connection. */
export interface ProvisionLink {
  /** writes a QoS 1 publish to the client, subscribed or not */
  deliver(topic: string, payload: string): void;
  close(reason: string): void;
}

/** One provisioning connection: a request, its answer, and the close that follows. */
export class ProvisionSession {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly platform: Platform, private readonly link: ProvisionLink) {}

  /** Subscriptions a provisioning connection may make. */
  allows(filter: string): boolean {
    return filter === PROVISION_RESPONSE;
  }

  /** A PUBLISH on the provisioning connection; false: the connection is to be closed (not acknowledged). */
  publish(topic: string, payload: Buffer): boolean {
    if (topic !== PROVISION_REQUEST) {
      this.link.close(`publish to ${topic} on a provisioning connection`);
      return false;
    }
    const response = provisioningOf(this.platform).handle(payload);
    this.link.deliver(PROVISION_RESPONSE, JSON.stringify(response));
    if (!this.timer) {
      this.timer = setTimeout(() => this.link.close('provisioning connection closed by the server after its answer'), PROVISION_CLOSE_MS);
      this.timer.unref?.();
    }
    return true;
  }

  end(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
