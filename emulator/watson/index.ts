// IBM Watson IoT platform emulator (shared/protocols/watson.md): its broker's connection rules, the
// gateway topic rules with their notifications, auto-registration with its throttle and limits,
// and a test API that sends commands and shows what the platform stored. An independent
// implementation of the protocol (never imports lib/).
import { PeerListener } from '../mqtt-peer';
import { cut, waitFor } from '../poll';
import { WatsonConnection } from './connection';
import type { ActionResponse, DeviceAction, DmRequest, ManagedDevice } from './dm';
import { NOTIFY, WatsonPlatform, type Notification, type PlatformOptions, type StoredEvent, type WatsonGateway } from './platform';

export { NOTIFY };
export type { Notification, StoredEvent, WatsonGateway, ActionResponse, DeviceAction, DmRequest, ManagedDevice };

export interface WatsonOptions extends Partial<PlatformOptions> {
  host?: string;
  port?: number;
  /** Default: one gateway of type "gateway-type", id "gateway-1", token "GATEWAY_TOKEN" in org "abc123". */
  gateways?: WatsonGateway[];
  log?: (line: string) => void;
}

export const DEFAULT_ORG = 'abc123';
export const DEFAULT_GATEWAY: WatsonGateway = { typeId: 'gateway-type', deviceId: 'gateway-1', token: 'GATEWAY_TOKEN' };

export class WatsonEmulator {
  private constructor(readonly platform: WatsonPlatform, private readonly listener: PeerListener<WatsonConnection>) {}

  get url(): string {
    return this.listener.url;
  }

  static async start(opts: WatsonOptions = {}): Promise<WatsonEmulator> {
    const platform = new WatsonPlatform(
      {
        org: opts.org ?? DEFAULT_ORG,
        maxDevicesPerGateway: opts.maxDevicesPerGateway ?? 500,
        maxDevicesPerOrg: opts.maxDevicesPerOrg ?? Infinity,
        maxPendingRegistrations: opts.maxPendingRegistrations ?? 10,
        registrationMs: opts.registrationMs ?? 0,
        retryAfterMs: opts.retryAfterMs ?? 30000,
      },
      opts.log ?? (() => undefined),
    );
    for (const g of opts.gateways ?? [DEFAULT_GATEWAY]) platform.addGateway(g);
    const listener = await PeerListener.listen<WatsonConnection>(opts.host ?? '127.0.0.1', opts.port ?? 0, (stream, gone) => new WatsonConnection(stream, platform, gone));
    const emu = new WatsonEmulator(platform, listener);
    return emu;
  }

  get org(): string {
    return this.platform.opts.org;
  }

  // ---- what the platform holds ------------------------------------------------------------

  /** Events stored for a device (all devices when no type/id is given). */
  events(type?: string, id?: string): StoredEvent[] {
    return this.platform.events.filter((e) => (type === undefined || e.type === type) && (id === undefined || e.id === id));
  }

  /** Registered devices (auto-registered ones and the gateways), in registration order. */
  devices(): Array<{ type: string; id: string; gateway: boolean }> {
    const gateways = new Set([...this.platform.gateways.values()].map((g) => `${g.typeId}/${g.deviceId}`));
    return [...this.platform.devices].map((k) => {
      const i = k.indexOf('/');
      return { type: k.slice(0, i), id: k.slice(i + 1), gateway: gateways.has(k) };
    });
  }

  /** The device's last stored event and how many it sent (scans from the end: no copy). */
  latestEvent(type: string, id: string): { event?: StoredEvent; count: number } {
    let last: StoredEvent | undefined;
    let count = 0;
    for (let i = this.platform.events.length - 1; i >= 0; i--) {
      const e = this.platform.events[i];
      if (e.type !== type || e.id !== id) continue;
      last ??= e;
      count++;
    }
    return { event: last, count };
  }

  notifications(): Notification[] {
    return [...this.platform.notifications];
  }

  violations(): string[] {
    return [...this.platform.violations];
  }

  registered(type: string, id: string): boolean {
    return this.platform.devices.has(`${type}/${id}`);
  }

  gatewayConnected(): boolean {
    return this.platform.sessions.size > 0;
  }

  /** Devices active in the current connection of the gateway. */
  activeDevices(): number {
    const c = [...this.platform.sessions][0];
    return c ? this.platform.activeDevices(c) : 0;
  }

  subscribed(filter: string): boolean {
    return [...this.platform.sessions].some((c) => c.subscribed.includes(filter));
  }

  /** The next auto-registration of type/id fails ("Failed to create device due to internal errors."). */
  failRegistration(type: string, id: string): void {
    this.platform.failRegistration(type, id);
  }

  // ---- device management (managed gateways) ---------------------------------------------

  /** The device management record of type/id (undefined: not managed). */
  managed(type: string, id: string): ManagedDevice | undefined {
    return this.platform.dm.managed.get(`${type}/${id}`);
  }

  /** Whether a managed device's lifetime ran out without a new manage (the platform shows it dormant); `now` for tests. */
  dormant(type: string, id: string, now = Date.now()): boolean {
    const d = this.managed(type, id);
    return d !== undefined && d.lifetime > 0 && now > d.lastManagedAt + d.lifetime * 1000;
  }

  /** The device management requests the gateway sent (oldest first), with the rc each was answered. */
  dmRequests(op?: string): DmRequest[] {
    return this.platform.dm.requests.filter((r) => op === undefined || r.op === op);
  }

  /** Initiates reboot or factory_reset of a managed device (or the gateway); the request's reqId. */
  initiate(type: string, id: string, action: DeviceAction): string {
    this.platform.log(`initiate ${action} of ${type}/${id}`);
    return this.platform.dm.initiate(type, id, action, (topic, payload) => this.platform.send(topic, payload));
  }

  /** The gateway's answer to an initiated action, once it came. */
  actionResponse(reqId: string): ActionResponse | undefined {
    return this.platform.dm.actionResponse(reqId);
  }

  /** The next manage request of type/id is answered with `rc` (a refusal). */
  refuseManage(type: string, id: string, rc = 409, message = 'refused by the test'): void {
    this.platform.dm.refuseManage(type, id, rc, message);
  }

  /** Device management requests go unanswered (true) or are answered again (false). */
  silenceDm(silent = true): void {
    this.platform.dm.silent = silent;
  }

  // ---- what the platform sends --------------------------------------------------------------

  /** A command to a device (or the gateway); how many gateway connections received it. */
  command(type: string, id: string, command: string, payload: unknown, format = 'json'): number {
    const bytes = Buffer.isBuffer(payload) ? payload : Buffer.from(format === 'json' ? JSON.stringify(payload) : String(payload));
    this.platform.log(`command ${command} to ${type}/${id}`);
    return this.platform.send(`iot-2/type/${type}/id/${id}/cmd/${command}/fmt/${format}`, bytes);
  }

  /** A raw publish to the gateway (malformed downlinks in tests). */
  publish(topic: string, payload: string | Buffer): number {
    return this.platform.send(topic, Buffer.isBuffer(payload) ? payload : Buffer.from(payload));
  }

  /** Closes every gateway connection, as a network loss. */
  drop(): number {
    return this.listener.drop('dropped by the server (test)');
  }

  /** Polls `probe` every 10 ms until it returns something truthy. */
  waitFor<R>(probe: () => R | undefined | false | null, timeoutMs = 5000, what = 'condition'): Promise<R> {
    return waitFor(probe, timeoutMs, what);
  }

  /** Keeps the last `keep` events, notifications and violations (an emulator left running stays bounded). */
  forgetHistory(keep: number): void {
    cut(this.platform.events, keep);
    cut(this.platform.notifications, keep);
    cut(this.platform.violations, keep);
  }

  async stop(): Promise<void> {
    this.platform.stop();
    await this.listener.close();
  }
}
