// Shared server state: the store, the configured gateways and limits, and which live gateway
// session each sub-device is registered in (downlinks route through that, and only that).
import { Store } from './store';
import { EmulatorOptions, GatewayConfig, SessionLimits, SessionLimitsPatch } from './types';
import type { GatewaySession } from './gateway-session';
import { EntityLimits } from './rate-limits';

export const DEFAULT_GATEWAY: GatewayConfig = { name: 'Gateway', token: 'GATEWAY_TOKEN' };
export const DEFAULT_MAX_PAYLOAD = 65536;

export function defaultLimits(maxPayload: number): SessionLimits {
  // Generous but shaped like a tenant profile's "capacity:seconds" lists, and enforced as announced.
  return {
    rateLimits: { messages: '10000:1,600000:60', telemetryMessages: '10000:1,600000:60', telemetryDataPoints: '1000000:1,60000000:60' },
    gatewayRateLimits: { messages: '10000:1,600000:60', telemetryMessages: '10000:1,600000:60', telemetryDataPoints: '1000000:1,60000000:60' },
    maxPayloadSize: maxPayload,
    maxInflightMessages: 100,
  };
}

export class Platform {
  readonly store = new Store();
  readonly gateways: GatewayConfig[];
  readonly sessions = new Set<GatewaySession>();
  readonly closedReasons: string[] = [];
  readonly connectCounts = new Map<string, number>();
  /** devices whose attribute lookups fail (no response at all); '*' = every device */
  readonly failingLookups = new Set<string>();
  /** Refusals a test queued for the next MQTT 5 publishes (per topic, or '*' for any). */
  readonly refusals: Array<{ topic: string; reasonCode: number; close: boolean }> = [];
  /** Payload fragments a test made fatal: a publish containing one is malformed (see poisonPublishes). */
  readonly poisons = new Set<string>();
  /** Client-side RPCs of the gateway device that a rule chain answers, by method (see answerGatewayRpc). */
  readonly gatewayRpcAnswers = new Map<string, (params: unknown) => unknown>();
  /** How long each publish waits before it is processed and acknowledged (a busy server); 0 = at once. */
  ackDelayMs = 0;
  /** The largest PUBLISH remaining length received (tests check the product's split against the limit). */
  largestPublish = 0;
  /** Rate-limit buckets per gateway device: they outlive its connections, as on the server. */
  private readonly rateBuckets = new Map<string, { devices: EntityLimits; own: EntityLimits }>();

  /** The gateway's buckets, following the currently announced limits. */
  rateLimitsOf(gateway: string): { devices: EntityLimits; own: EntityLimits } {
    let b = this.rateBuckets.get(gateway);
    if (!b) {
      b = { devices: new EntityLimits(this.limits.gatewayRateLimits), own: new EntityLimits(this.limits.rateLimits) };
      this.rateBuckets.set(gateway, b);
    } else {
      b.devices.update(this.limits.gatewayRateLimits);
      b.own.update(this.limits.rateLimits);
    }
    return b;
  }

  poisoned(payload: Buffer): string | undefined {
    if (this.poisons.size === 0) return undefined;
    const s = payload.toString('utf8');
    for (const p of this.poisons) if (s.includes(p)) return p;
    return undefined;
  }

  takeRefusal(topic: string): { reasonCode: number; close: boolean } | undefined {
    const i = this.refusals.findIndex((r) => r.topic === '*' || r.topic === topic);
    return i < 0 ? undefined : this.refusals.splice(i, 1)[0];
  }
  readonly recordTelemetry: boolean;
  readonly rpcTimeoutMs: number;
  limits: SessionLimits;
  private readonly routes = new Map<string, GatewaySession>();
  private readonly logFn?: (line: string) => void;

  constructor(opts: EmulatorOptions) {
    this.gateways = (opts.gateways && opts.gateways.length ? opts.gateways : [DEFAULT_GATEWAY]).map((g) => ({ ...g }));
    const max = opts.maxPayload ?? DEFAULT_MAX_PAYLOAD;
    this.limits = defaultLimits(max);
    if (opts.sessionLimits) this.patchLimits(opts.sessionLimits);
    this.limits.maxPayloadSize = opts.sessionLimits?.maxPayloadSize ?? max;
    this.recordTelemetry = opts.recordTelemetry !== false;
    this.rpcTimeoutMs = opts.rpcTimeoutMs ?? 10000;
    this.logFn = opts.log;
    for (const gw of this.gateways) this.store.getOrCreate(gw.name, 'default', gw.name, true);
  }

  get logging(): boolean {
    return this.logFn !== undefined;
  }

  log(line: string): void {
    if (this.logFn) this.logFn(line);
  }

  /** The server enforces what it reports: maxPayloadSize is the limit. */
  get maxPayload(): number {
    return this.limits.maxPayloadSize;
  }

  patchLimits(p: SessionLimitsPatch): void {
    const l = this.limits;
    if (p.rateLimits) l.rateLimits = { ...l.rateLimits, ...p.rateLimits };
    if (p.gatewayRateLimits) l.gatewayRateLimits = { ...l.gatewayRateLimits, ...p.gatewayRateLimits };
    if (p.maxPayloadSize !== undefined) l.maxPayloadSize = p.maxPayloadSize;
    if (p.maxInflightMessages !== undefined) l.maxInflightMessages = p.maxInflightMessages;
  }

  gateway(name?: string): GatewayConfig {
    if (name === undefined) return this.gateways[0];
    const gw = this.gateways.find((g) => g.name === name);
    if (!gw) throw new Error(`no gateway named "${name}" is configured`);
    return gw;
  }

  sessionsOf(name: string): GatewaySession[] {
    return [...this.sessions].filter((s) => s.gateway.name === name && s.open);
  }

  route(device: string): GatewaySession | undefined {
    const s = this.routes.get(device);
    return s && s.open && s.devices.has(device) ? s : undefined;
  }

  register(session: GatewaySession, device: string): void {
    this.routes.set(device, session);
  }

  deregister(session: GatewaySession, device: string): void {
    if (this.routes.get(device) === session) this.routes.delete(device);
  }

  renameRoute(oldName: string, newName: string): void {
    const s = this.routes.get(oldName);
    if (!s) return;
    this.routes.delete(oldName);
    this.routes.set(newName, s);
  }

  isConnected(device: string): boolean {
    return this.route(device) !== undefined;
  }
}
