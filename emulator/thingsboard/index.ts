// ThingsBoard platform emulator: the test peer for the whole product. An independent
// implementation of the server rules in shared/protocols/thingsboard.md (never imports lib/).
import { Broker, counters } from './broker';
import { GatewaySession } from './gateway-session';
import { Platform } from './platform';
import * as T from './topics';
import { provisioningOf, type ProvisionAttempt, type ProvisionProfile } from './provision';
import { DeviceRecord } from './store';
import {
  ClaimRecord,
  Counters,
  DeviceInfo,
  EmulatorOptions,
  JournalEntry,
  SessionLimits,
  SessionLimitsPatch,
  TelemetryPoint,
} from './types';

export * from './types';
export type { ProvisionAttempt, ProvisionProfile, ProvisionResponse } from './provision';
export { counters };

export class ThingsBoardEmulator {
  private constructor(private readonly platform: Platform, private readonly broker: Broker) {}

  static async start(opts: EmulatorOptions = {}): Promise<ThingsBoardEmulator> {
    const platform = new Platform(opts);
    const broker = await Broker.start(platform, {
      host: opts.host ?? '127.0.0.1',
      port: opts.port ?? 0,
      wsPort: opts.wsPort,
      tlsPort: opts.tlsPort,
      tls: opts.tls,
    });
    return new ThingsBoardEmulator(platform, broker);
  }

  /** mqtt://127.0.0.1:<port> */
  get url(): string {
    return this.broker.url;
  }
  /** ws://127.0.0.1:<port>/mqtt when wsPort was given */
  get wsUrl(): string | undefined {
    return this.broker.wsUrl;
  }
  /** mqtts://127.0.0.1:<port> when tls was given */
  get tlsUrl(): string | undefined {
    return this.broker.tlsUrl;
  }
  /**
   * Every emulator accepts MQTT 3.1, 3.1.1 and 5 on each of its URLs: the client's CONNECT
   * chooses, and refusals are said the way the server says them on that version.
   */
  readonly supportsMqtt5 = true;

  /** This instance's counters (the module export `counters` sums every instance). */
  get counters(): Readonly<Counters> {
    return this.platform.store.counters;
  }

  // ---- what the platform saw ------------------------------------------------------------

  private info(d: DeviceRecord): DeviceInfo {
    const connected = d.isGateway ? this.platform.sessionsOf(d.name).length > 0 : this.platform.isConnected(d.name);
    return { name: d.name, profile: d.profile, gateway: d.gateway, connected, isGateway: d.isGateway };
  }

  /** Sub-devices (not the gateway devices themselves), in creation order. */
  devices(): DeviceInfo[] {
    return [...this.platform.store.devices.values()].filter((d) => !d.isGateway).map((d) => this.info(d));
  }

  /** The gateway devices ("Is gateway" flag set). */
  gateways(): DeviceInfo[] {
    return [...this.platform.store.devices.values()].filter((d) => d.isGateway).map((d) => this.info(d));
  }

  device(name: string): DeviceInfo | undefined {
    const d = this.platform.store.get(name);
    return d ? this.info(d) : undefined;
  }

  telemetry(device: string): TelemetryPoint[] {
    return this.platform.store.telemetry(device);
  }

  /** The device's last telemetry element and how many it sent, without copying the whole series. */
  latestTelemetry(device: string): { point?: TelemetryPoint; count: number } {
    const d = this.platform.store.get(device);
    const n = d ? d.tsList.length : 0;
    if (!d || n === 0) return { count: 0 };
    return { point: { ts: d.tsList[n - 1], values: d.valuesList[n - 1], serverTs: d.serverTsList[n - 1] }, count: n };
  }

  clientAttributes(device: string): Record<string, unknown> {
    const d = this.platform.store.get(device);
    return d ? Object.fromEntries(d.clientAttributes) : {};
  }

  sharedAttributes(device: string): Record<string, unknown> {
    const d = this.platform.store.get(device);
    return d ? Object.fromEntries(d.sharedAttributes) : {};
  }

  claims(device: string): ClaimRecord[] {
    const d = this.platform.store.get(device);
    return d ? d.claims.map((c) => ({ ...c })) : [];
  }

  journal(): JournalEntry[] {
    return this.platform.store.journal();
  }

  closedReasons(): string[] {
    return this.platform.closedReasons.slice();
  }

  sessionLimits(): SessionLimits {
    return JSON.parse(JSON.stringify(this.platform.limits)) as SessionLimits;
  }

  /** Polls `probe` every 10 ms until it returns something truthy. */
  waitFor<R>(probe: () => R | undefined | false | null, timeoutMs = 5000): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const deadline = Date.now() + timeoutMs;
      const tick = () => {
        let v: R | undefined | false | null;
        try {
          v = probe();
        } catch (e) {
          return reject(e);
        }
        if (v) return resolve(v);
        if (Date.now() >= deadline) return reject(new Error(`waitFor timed out after ${timeoutMs} ms: ${probe.toString().slice(0, 200)}`));
        setTimeout(tick, 10);
      };
      tick();
    });
  }

  // ---- gateway connections ---------------------------------------------------------------

  gatewayConnected(name?: string): boolean {
    return this.platform.sessionsOf(this.platform.gateway(name).name).length > 0;
  }

  /** MQTT protocol level of the gateway's live connection (4 = 3.1.1, 5 = MQTT 5); undefined when offline. */
  gatewayProtocolVersion(name?: string): number | undefined {
    return this.sessionFor(this.platform.gateway(name).name)?.transport.protocolVersion;
  }

  /** How many CONNECTs of this gateway were accepted so far. */
  gatewayConnections(name?: string): number {
    return this.platform.connectCounts.get(this.platform.gateway(name).name) ?? 0;
  }

  /** Server-side close of the gateway's connection(s), as a network loss. Returns how many. */
  dropGateway(name?: string): number {
    return this.broker.drop(this.platform.gateway(name).name);
  }

  private sessionFor(name: string): GatewaySession | undefined {
    return this.platform.sessionsOf(name)[0];
  }

  // ---- server-initiated traffic ----------------------------------------------------------

  /**
   * Two-way RPC to a sub-device through the gateway session it is registered in. Rejects at
   * once when the device is not registered in a live session ("device offline"), and after
   * `timeoutMs` when no reply comes, like the server.
   */
  callRpc(device: string, method: string, params?: unknown, timeoutMs = 10000): Promise<unknown> {
    const session = this.platform.route(device);
    if (!session) return Promise.reject(new Error(`device "${device}" is offline: not connected in any gateway session`));
    return session.deviceRpc(device, method, params, timeoutMs);
  }

  /** Stores shared attributes and pushes the update; returns true when it reached a gateway. */
  setSharedAttributes(device: string, values: Record<string, unknown>): boolean {
    const d = this.platform.store.get(device);
    if (!d) throw new Error(`device "${device}" does not exist`);
    for (const k in values) d.sharedAttributes.set(k, values[k]);
    return this.pushAttributes(d, values);
  }

  deleteSharedAttributes(device: string, keys: string[]): boolean {
    const d = this.platform.store.get(device);
    if (!d) throw new Error(`device "${device}" does not exist`);
    for (const k of keys) d.sharedAttributes.delete(k);
    return this.pushAttributes(d, { deleted: keys });
  }

  private pushAttributes(d: DeviceRecord, data: Record<string, unknown>): boolean {
    if (d.isGateway) {
      const s = this.sessionFor(d.name);
      return s ? s.deliver(T.ME_ATTRIBUTES, JSON.stringify(data)) : false;
    }
    const s = this.platform.route(d.name);
    if (!s) {
      this.platform.log(`shared attribute update for "${d.name}" not delivered: device not connected in a gateway session`);
      return false;
    }
    return s.deliver(T.GW_ATTRIBUTES, JSON.stringify({ device: d.name, data }));
  }

  private notifyGateway(gateway: string, method: string, params: unknown): Promise<unknown> {
    const s = this.sessionFor(gateway);
    if (!s) return Promise.reject(new Error(`gateway "${gateway}" is offline: ${method} not delivered`));
    return s.ownRpc(method, params, this.platform.rpcTimeoutMs);
  }

  /**
   * Server-side RPC to the gateway device itself (what the RPC debug terminal widget sends) on
   * v1/devices/me/rpc/request/{id}; resolves with its answer, rejects when offline or on timeout.
   */
  callGatewayRpc(method: string, params?: unknown, timeoutMs = 10000, gateway?: string): Promise<unknown> {
    const s = this.sessionFor(this.platform.gateway(gateway).name);
    if (!s) return Promise.reject(new Error(`gateway is offline: ${method} not delivered`));
    return s.ownRpc(method, params ?? {}, timeoutMs);
  }

  /** Renames the device and tells its gateway (RPC gateway_device_renamed {"old":"new"}); resolves with the answer. */
  renameDevice(oldName: string, newName: string): Promise<unknown> {
    let d: DeviceRecord;
    try {
      d = this.platform.store.rename(oldName, newName);
    } catch (e) {
      return Promise.reject(e);
    }
    const s = this.platform.route(oldName);
    if (s) s.renameDevice(oldName, newName);
    this.platform.renameRoute(oldName, newName);
    return this.notifyGateway(d.gateway, 'gateway_device_renamed', { [oldName]: newName });
  }

  /** Deletes the device and tells its gateway (RPC gateway_device_deleted "name"); resolves with the answer. */
  deleteDevice(name: string): Promise<unknown> {
    const d = this.platform.store.get(name);
    if (!d) return Promise.reject(new Error(`device "${name}" does not exist`));
    const s = this.platform.route(name);
    if (s) s.forgetDevice(name);
    this.platform.store.remove(name);
    return this.notifyGateway(d.gateway, 'gateway_device_deleted', name);
  }

  /**
   * MQTT 5 only: the server drops a sub-device and tells its gateway with {device, reason} on
   * v1/gateway/disconnect (150 rate limit, 128 other error, 129 bad msg id). It is written to the
   * gateway without a subscription (none can be made to that topic); the device is deregistered,
   * so it needs a new uplink before downlinks reach it again. Throws on an MQTT 3.1.1 session.
   */
  notifyDeviceDisconnected(device: string, reason: number): void {
    const s = this.platform.route(device);
    if (!s) throw new Error(`device "${device}" is not connected in any gateway session`);
    if (s.transport.protocolVersion !== 5) {
      throw new Error(`v1/gateway/disconnect from the server exists only on MQTT 5; gateway "${s.gateway.name}" is connected with MQTT 3.1.1`);
    }
    s.deliver(T.GW_DISCONNECT, JSON.stringify({ device, reason }), true);
    s.forgetDevice(device);
    this.platform.store.record(s.gateway.name, T.GW_DISCONNECT, 'disconnect', device, { byServer: true, reason });
    this.platform.log(`[${s.gateway.name}] server disconnected "${device}" (reason ${reason})`);
  }

  /** Publishes anything to the gateway (subscribed or not). Returns false when it is offline. */
  sendRaw(topic: string, payload: string | Buffer, gateway?: string): boolean {
    const s = this.sessionFor(this.platform.gateway(gateway).name);
    return s ? s.deliver(topic, payload, true) : false;
  }

  /**
   * The gateway's own RPC `method` (v1/devices/me/rpc/request/{id}) is answered with what `answer`
   * returns, as a rule chain with an "rpc call reply" node does; `undefined` removes the answer.
   * Without one, such a request gets no response (getSessionLimits is always answered).
   */
  answerGatewayRpc(method: string, answer?: (params: unknown) => unknown): void {
    if (answer) this.platform.gatewayRpcAnswers.set(method, answer);
    else this.platform.gatewayRpcAnswers.delete(method);
  }

  /**
   * MQTT 5 only: the next QoS 1 publish on `topic` ('*' = any) is answered with PUBACK
   * `reasonCode` (default 0x97 quota exceeded) and, when `close`, the connection is then closed:
   * what ThingsBoard does when a gateway exceeds its rate limits.
   */
  refuseNextPublish(topic = '*', reasonCode = 0x97, close = true): void {
    this.platform.refusals.push({ topic, reasonCode, close });
  }

  /**
   * Every later publish whose payload contains `fragment` is malformed to the server: on MQTT 3.1.1
   * the connection is closed (no PUBACK), on MQTT 5 it is answered PUBACK 0x99. A stand-in for a
   * payload the real server chokes on that the product did not foresee. `false` lifts it.
   */
  poisonPublishes(fragment: string, poison = true): void {
    if (poison) this.platform.poisons.add(fragment);
    else this.platform.poisons.delete(fragment);
  }

  /**
   * Makes the server slow: each publish waits `ms` before it is processed and acknowledged. Then
   * the server's queue bound holds: a client with more than maxInflightMessages publishes waiting
   * is disconnected, as ThingsBoard does.
   */
  setAckDelay(ms: number): void {
    this.platform.ackDelayMs = ms;
  }

  /** The largest PUBLISH remaining length (topic, packet id, properties, payload) received so far. */
  largestPublish(): number {
    return this.platform.largestPublish;
  }

  /** Attribute lookups for `device` ('*' = all) fail: the request gets no response at all. */
  failAttributeLookups(device = '*', fail = true): void {
    if (fail) this.platform.failingLookups.add(device);
    else this.platform.failingLookups.delete(device);
  }

  setSessionLimits(partial: SessionLimitsPatch): void {
    this.platform.patchLimits(partial);
  }

  /** The enforced PUBLISH payload limit; getSessionLimits reports the same number. */
  setMaxPayload(n: number): void {
    this.platform.patchLimits({ maxPayloadSize: n });
  }

  // ---- provisioning (provision.ts) ------------------------------------------------------

  /** A device profile with provisioning on: its key and secret, strategy and name. */
  allowProvisioning(profile: ProvisionProfile): void {
    provisioningOf(this.platform).profiles.push({ ...profile });
  }

  /** Creates a device for the "pre-provisioned" strategy (it gets its access token when provisioned). */
  preProvision(name: string, profile = 'default'): void {
    provisioningOf(this.platform).preProvision(name, profile);
  }

  /** Every provisioning request received, with the answer given, in order. */
  provisionAttempts(): ProvisionAttempt[] {
    return provisioningOf(this.platform).attempts.map((a) => ({ ...a }));
  }

  /**
   * Keeps the last `keep` telemetry elements of each device and the last `keep` journal entries
   * and closing reasons: an emulator left running (the editor's test platform) stays bounded.
   */
  forgetHistory(keep: number): void {
    for (const d of this.platform.store.devices.values()) {
      const n = d.tsList.length - keep;
      if (n <= 0) continue;
      d.tsList.splice(0, n);
      d.valuesList.splice(0, n);
      d.serverTsList.splice(0, n);
    }
    this.platform.store.trimJournal(keep);
    const r = this.platform.closedReasons.length - keep;
    if (r > 0) this.platform.closedReasons.splice(0, r);
  }

  async stop(): Promise<void> {
    await this.broker.stop();
  }
}
