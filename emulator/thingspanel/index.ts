// ThingsPanel platform emulator: its broker and the backend rules a gateway meets, with a test
// API that sends what the platform sends (commands, attribute sets and queries, telemetry
// control) and shows what it stored. An independent implementation (never imports lib/).
import { PeerListener } from '../mqtt-peer';
import { cut, waitFor } from '../poll';
import { TpConnection } from './connection';
import { TpPlatform, type AckMode, type DeviceState, type JournalEntry, type StoredEvent, type StoredPoint, type TpGateway } from './platform';

export type { AckMode, JournalEntry, StoredEvent, StoredPoint, TpGateway };

export interface ThingsPanelOptions {
  host?: string;
  port?: number;
  /** Default: one gateway, device number "GW-0001", ACCESSTOKEN voucher "GATEWAY_TOKEN". */
  gateways?: TpGateway[];
  /** Sub-device address paths per gateway device number ("sensor_001", "line-2/sensor_101"). */
  subDevices?: Record<string, string[]>;
  log?: (line: string) => void;
}

export const DEFAULT_GATEWAY: TpGateway = { deviceNumber: 'GW-0001', username: 'GATEWAY_TOKEN' };

export class ThingsPanelEmulator {
  private constructor(readonly platform: TpPlatform, private readonly listener: PeerListener<TpConnection>) {}

  get url(): string {
    return this.listener.url;
  }

  static async start(opts: ThingsPanelOptions = {}): Promise<ThingsPanelEmulator> {
    const platform = new TpPlatform(opts.log ?? (() => undefined));
    for (const g of opts.gateways ?? [DEFAULT_GATEWAY]) platform.addGateway(g);
    for (const [dn, paths] of Object.entries(opts.subDevices ?? {})) for (const p of paths) platform.addSubDevice(dn, p);
    const listener = await PeerListener.listen<TpConnection>(opts.host ?? '127.0.0.1', opts.port ?? 0, (stream, gone) => new TpConnection(stream, platform, gone));
    const emu = new ThingsPanelEmulator(platform, listener);
    return emu;
  }

  private dn(deviceNumber?: string): string {
    return deviceNumber ?? [...this.platform.gateways.keys()][0];
  }

  private state(path: string, deviceNumber?: string): DeviceState | undefined {
    return this.platform.devices.get(this.dn(deviceNumber))?.get(path);
  }

  // ---- what the platform holds ------------------------------------------------------------

  /** Binds a sub-device to the gateway by its address path (as the platform's UI does). */
  addSubDevice(path: string, deviceNumber?: string): void {
    this.platform.addSubDevice(this.dn(deviceNumber), path);
  }

  /** Address paths of the gateway's devices, "" (the gateway itself) first, then in creation order. */
  devices(deviceNumber?: string): string[] {
    return [...(this.platform.devices.get(this.dn(deviceNumber))?.keys() ?? [])];
  }

  /** The device's last stored telemetry point and how many it has, without copying the series. */
  latestTelemetry(path: string, deviceNumber?: string): { point?: StoredPoint; count: number } {
    const list = this.state(path, deviceNumber)?.telemetry ?? [];
    const last = list[list.length - 1];
    return last ? { point: { ts: last.ts, values: { ...last.values } }, count: list.length } : { count: 0 };
  }

  /** The gateway's device number (the first configured gateway when there are several). */
  get deviceNumber(): string {
    return this.dn();
  }

  /** Stored telemetry of a device ("" = the gateway itself), stamped with the server's time. */
  telemetry(path: string, deviceNumber?: string): StoredPoint[] {
    return (this.state(path, deviceNumber)?.telemetry ?? []).map((p) => ({ ts: p.ts, values: { ...p.values } }));
  }

  attributes(path: string, deviceNumber?: string): Record<string, unknown> {
    return { ...(this.state(path, deviceNumber)?.attributes ?? {}) };
  }

  events(path: string, deviceNumber?: string): StoredEvent[] {
    return [...(this.state(path, deviceNumber)?.events ?? [])];
  }

  journal(): JournalEntry[] {
    return [...this.platform.journalEntries];
  }

  /** Rules of the broker and backend the gateway broke (e.g. several topics in one SUBSCRIBE). */
  violations(): string[] {
    return [...this.platform.violations];
  }

  gatewayConnected(deviceNumber?: string): boolean {
    const dn = this.dn(deviceNumber);
    return [...this.platform.sessions].some((s) => s.deviceNumber === dn);
  }

  /** The gateway has subscribed to the filter a downlink on `topic` goes through. */
  subscribed(topic: string, deviceNumber?: string): boolean {
    return this.platform.subscribed(this.dn(deviceNumber), topic);
  }

  /** Where the acks of attribute reports and events go ('devices', as the backend does; 'gateway', as the spec says; 'none'). */
  set ackMode(mode: AckMode) {
    this.platform.ackMode = mode;
  }

  failNextAck(kind: 'attributes' | 'event', errcode: string, message = errcode): void {
    this.platform.failNextAck(kind, errcode, message);
  }

  // ---- what the platform sends --------------------------------------------------------------

  /** A command (envelope of {method, params}); resolves with the gateway's response object. */
  command(envelope: unknown, timeoutMs = 5000, deviceNumber?: string): Promise<unknown> {
    const dn = this.dn(deviceNumber);
    return this.platform.request(dn, (mid) => `gateway/command/${dn}/${mid}`, envelope, timeoutMs);
  }

  /** An attribute set (envelope of values); resolves with the gateway's response object. */
  setAttributes(envelope: unknown, timeoutMs = 5000, deviceNumber?: string): Promise<unknown> {
    const dn = this.dn(deviceNumber);
    return this.platform.request(dn, (mid) => `gateway/attributes/set/${dn}/${mid}`, envelope, timeoutMs);
  }

  /** An attribute query ({"gateway_data": ["k"], "sub_device_data": {"addr": []}}); the gateway answers with an attribute report. */
  getAttributes(query: unknown, deviceNumber?: string): boolean {
    const dn = this.dn(deviceNumber);
    return this.platform.publish(dn, `gateway/attributes/get/${dn}`, query);
  }

  /** Telemetry control (envelope of values to set); no answer is expected. */
  control(envelope: unknown, deviceNumber?: string): boolean {
    const dn = this.dn(deviceNumber);
    return this.platform.publish(dn, `gateway/telemetry/control/${dn}`, envelope);
  }

  /** A raw publish to the gateway (malformed downlinks in tests). */
  publish(topic: string, body: unknown, deviceNumber?: string): boolean {
    return this.platform.publish(this.dn(deviceNumber), topic, body);
  }

  /** Closes every connection of the gateway, as a network loss. */
  drop(deviceNumber?: string): number {
    const dn = this.dn(deviceNumber);
    return this.listener.drop('dropped by the server (test)', (c) => c.deviceNumber === dn);
  }

  /** Polls `probe` every 10 ms until it returns something truthy. */
  waitFor<R>(probe: () => R | undefined | false | null, timeoutMs = 5000, what = 'condition'): Promise<R> {
    return waitFor(probe, timeoutMs, what);
  }

  /** Keeps the last `keep` telemetry points and events of each device, journal entries and violations (an emulator left running stays bounded). */
  forgetHistory(keep: number): void {
    for (const devs of this.platform.devices.values()) {
      for (const st of devs.values()) {
        cut(st.telemetry, keep);
        cut(st.events, keep);
      }
    }
    cut(this.platform.journalEntries, keep);
    cut(this.platform.violations, keep);
  }

  async stop(): Promise<void> {
    this.platform.stop();
    await this.listener.close();
  }
}
