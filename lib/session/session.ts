// GatewaySession: the one MQTT connection a gateway keeps on behalf of all its devices.
// connect → subscribe → announce every registered device → deliver the outbox; on loss, back
// off with jitter and do it all again on a fresh client, so nothing of the old one lingers.
import { EventEmitter } from "events";
import type { Credentials, Dialect } from "../dialect/types";
import { Outbox, OutboxError, type Transport } from "../outbox/outbox";
import type { Done, EndCounter } from "../outbox/msg-entry";
import type { Entry, OutboxOptions, UplinkStore } from "../outbox/types";
import type { BackoffOptions } from "./backoff";
import { Connection } from "./connection";
import { DeviceRegistry, type DeviceRecord } from "./registry";
import { PendingRequests } from "./requests";
import { AttributeRequests } from "./attribute-answer";
import type { DownlinkListener } from "./listeners";
import { DownlinkRouter } from "./router";
import { parseSessionLimits, type SessionLimits } from "./session-limits";
import { UplinkAcks } from "./uplink-acks";
import { GatewayStats } from "./stats";
import { Announcements } from "./announcements";
import { MsgIntake, type SendOptions } from "./intake";
import type { ServiceRpcs } from "./service-rpcs";
import type { AttributeScope, Downlink, SessionState, Uplink, Values } from "../records";

export type { SendOptions } from "./intake";

/** TLS settings as Node's `tls.connect` takes them (the tls-config node fills these). */
export type TlsOptions = Record<string, unknown>;

export interface SessionOptions {
  url: string;
  dialect: Dialect;
  credentials: Credentials;
  tls?: TlsOptions;
  protocolVersion?: 4 | 5;
  keepaliveS?: number;
  qos?: 0 | 1;
  connectTimeoutMs?: number;
  reconnect?: BackoffOptions;
  outbox?: Partial<OutboxOptions>;
  store?: UplinkStore;
  /** Ask the server for its limits after each connect (ThingsBoard getSessionLimits). */
  askLimits?: boolean;
  /** How long an RPC waits for the flow's answer before it is closed (default 60 s, ThingsBoard's own RPC timeout). */
  rpcTimeoutMs?: number;
  /** RPCs waiting for the flow's answer at most; the oldest is closed first (default 1000). */
  maxOpenRpcs?: number;
  /** How long a publish the platform acknowledges itself (dialect.awaitsAck) waits for that ack. Default 10 s. */
  ackTimeoutMs?: number;
}

export interface Handover {
  entries: Entry[];
  devices: DeviceRecord[];
  /** The platform's renames: [the flow's name, the current name] (none: a registry saved before renames were kept). */
  renames?: Array<[string, string]>;
}

export interface SessionEvents {
  state: [SessionState];
  downlink: [Downlink];
  warning: [string];
  limits: [SessionLimits];
  /** The platform's verdict on the gateway's own announcement (dialect.gatewayAnnouncement): undefined = accepted, else why not. */
  announced: [string | undefined];
}

/**
 * Told of each msg the flow submits while someone watches (the editor's sidebar: snapshot.ts):
 * `submitting` before the session looks at its uplinks, `ended` for every msg that ends with an
 * error meanwhile (at once: invalid, or the outbox or the store full; with drop-oldest, an older
 * msg may be the one that ends), `submitted` after. Unset, the msg path does nothing for it.
 */
export interface SubmitWatcher {
  submitting(given: readonly Uplink[]): void;
  ended(err: Error): void;
  submitted(): void;
}

const DEFAULT_RECONNECT: BackoffOptions = { minMs: 1000, maxMs: 60000 };
/** How long data waits after a connect for the server's limits before it goes under the last known ones. */
const LIMITS_HOLD_MS = 3000;

export class GatewaySession extends EventEmitter<SessionEvents> {
  readonly registry = new DeviceRegistry();
  readonly outbox: Outbox;
  /** The gateway's own health figures (statistics telemetry, gateway_stats, the sidebar). */
  readonly stats = new GatewayStats();
  /** RPCs to the gateway device that the package answers itself (gateway_ping…); unset = none. */
  serviceRpcs: ServiceRpcs | undefined;
  /** Who watches the msgs the flow submits (the sidebar), if anyone. */
  watcher: SubmitWatcher | undefined = undefined;
  /** How each msg ended, for the statistics and the watcher (every entry of a msg is told: msg-entry.ts). */
  private readonly ends: EndCounter = {
    ended: (err) => {
      this.stats.ended(err);
      if (err && this.watcher) this.watcher.ended(err);
    },
  };
  limits: SessionLimits | undefined;
  private current: SessionState = { state: "disconnected", reason: "not started" };
  private readonly connection: Connection;
  private stopping = false;
  private started = false;
  private readonly attributeRequests = new AttributeRequests({ send: (u) => this.send(u), warn: (m) => this.warn(m) });
  private readonly gatewayRequests = new PendingRequests<unknown>();
  /** Methods of the gateway's own requests in flight, by id: a broker that echoes them back is not the server asking. */
  private readonly ownRequests = new Map<number, string>();
  private readonly warned = new Set<string>();
  private configuredPayload: number;
  private readonly acks: UplinkAcks;
  /** Listeners of the platform's events, and the RPCs waiting for the flow's answer. */
  readonly router: DownlinkRouter;
  /** The devices' and the gateway's own announcements, and their renewal. */
  private readonly announcements: Announcements;
  /** The msgs of the flow, checked and queued. */
  private readonly intake: MsgIntake;

  constructor(readonly opts: SessionOptions) {
    super();
    this.router = new DownlinkRouter(
      { send: (u) => this.send(u), warn: (m) => this.warn(m), current: (name) => this.registry.current(name), problem: (u) => opts.dialect.validate(u) },
      { timeoutMs: opts.rpcTimeoutMs, max: opts.maxOpenRpcs },
    );
    this.outbox = new Outbox(opts.dialect, opts.outbox, opts.store);
    this.announcements = new Announcements({
      registry: this.registry,
      outbox: this.outbox,
      router: this.router,
      dialect: opts.dialect,
      connected: () => this.connected,
      stopping: () => this.stopping,
      warn: (m) => this.warn(m),
      verdict: (refusal) => this.emit("announced", refusal),
    });
    this.intake = new MsgIntake({ dialect: opts.dialect, outbox: this.outbox, registry: this.registry, announcements: this.announcements, stats: this.stats, ends: this.ends });
    this.outbox.propertiesBytes = opts.protocolVersion === 5 ? 1 : 0;
    this.configuredPayload = opts.dialect.defaultMaxPayload;
    this.acks = new UplinkAcks(opts.dialect.awaitsAck?.bind(opts.dialect), opts.ackTimeoutMs ?? 10000, opts.dialect.failureKey?.bind(opts.dialect));
    this.connection = new Connection({
      url: opts.url,
      client: {
        ...opts.tls,
        ...opts.dialect.connectOptions(opts.credentials),
        protocolVersion: opts.protocolVersion ?? 4,
        keepalive: Math.min(opts.keepaliveS ?? 60, opts.dialect.maxKeepaliveS ?? Infinity),
        connectTimeout: opts.connectTimeoutMs ?? 30000,
      },
      subscriptions: opts.dialect.subscriptions,
      qos: opts.qos ?? 1,
      reconnect: opts.reconnect ?? DEFAULT_RECONNECT,
    });
    this.connection.on("state", (s) => this.setState(s));
    this.connection.on("up", (transport) => this.onUp(transport));
    this.connection.on("down", () => {
      this.announcements.stop();
      this.outbox.detach();
      this.acks.lost();
    });
    this.connection.on("message", (topic, payload) => this.onMessage(topic, payload));
    this.connection.on("warning", (m) => this.warn(m));
  }

  get state(): SessionState {
    return this.current;
  }

  get connected(): boolean {
    return this.current.state === "connected";
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.connection.open();
  }

  /** Not started yet, and why (provisioning, or its refusal): the state every reader of the session sees. */
  waitingFor(reason: string): void {
    if (!this.started) this.setState({ state: "connecting", reason });
  }

  /** Connects with other credentials from the next connect on (those provisioning gave). */
  useCredentials(credentials: Credentials): void {
    this.connection.setClientOptions(this.opts.dialect.connectOptions(credentials));
  }

  /** Closes the connection; uplinks still waiting are rejected, pending requests fail. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.announcements.stop();
    const closed = new Error("the gateway session is closed");
    this.outbox.close(closed.message);
    this.acks.lost();
    this.attributeRequests.failAll(closed);
    this.gatewayRequests.failAll(closed);
    this.router.close();
    await this.connection.close();
    this.setState({ state: "disconnected", reason: "closed" });
  }

  /**
   * Stops, handing over what a successor needs so that a redeploy loses nothing: the uplinks
   * not yet acknowledged (in order) and the devices announced.
   */
  async handOver(): Promise<Handover> {
    const snapshot = this.registry.snapshot();
    const handover = { entries: this.outbox.handOver(), devices: snapshot.devices, renames: snapshot.renames };
    await this.stop();
    return handover;
  }

  /** Takes over a predecessor's queue, devices and renames (only what validates); call before `start`. */
  adopt(h: Handover): void {
    this.registry.restore({ devices: h.devices, renames: h.renames });
    this.outbox.adopt(h.entries);
  }

  /**
   * Queues an uplink; the promise settles when the server acknowledged it. Unknown devices are
   * announced first (unless `autoConnect` is false).
   */
  send(uplink: Uplink, options: SendOptions = {}): Promise<void> {
    return this.intake.send(uplink, options);
  }

  /** Several uplinks of one msg: all are queued, or (when one is invalid) none. */
  sendAll(uplinks: readonly Uplink[], options: SendOptions = {}): Promise<void> {
    return new Promise<void>((resolve, reject) => this.submit(uplinks, options, (err) => (err ? reject(err) : resolve())));
  }

  /**
   * The callback form of `sendAll`, for the per-msg hot path (no promise and no closure per msg:
   * msg-entry.ts): `done` is called once, with an error if any uplink was invalid (then none is
   * queued), refused or lost with the session, or without one when the server acknowledged them
   * all. With `label` (a node type), `done` is Node-RED's own and a failure reaches it as its
   * sentence, a string, prefixed with the label (as the adapters' userError + asSentences do).
   */
  submit(given: readonly Uplink[], options: SendOptions, done: Done, label?: string): void {
    const w = this.watcher;
    if (w === undefined) return this.intake.take(given, options, done, label);
    w.submitting(given);
    try {
      this.intake.take(given, options, done, label);
    } finally {
      w.submitted();
    }
  }

  /** Announces a device (again, if its profile changed) and resolves on the server's PUBACK. */
  connectDevice(flowName: string, profile?: string, details: { metadata?: Values; deviceInfo?: Values } = {}): Promise<void> {
    const device = this.registry.current(flowName);
    const u: Uplink = { kind: "connect", device, profile, ...details };
    const problem = this.opts.dialect.validate(u);
    if (problem) return Promise.reject(new OutboxError(problem, "invalid"));
    this.registry.add(device, profile);
    const acked = this.outbox.accept(u);
    acked.then(() => this.router.deviceConnected(device), () => undefined);
    return acked;
  }

  disconnectDevice(flowName: string): Promise<void> {
    const device = this.registry.current(flowName);
    const u: Uplink = { kind: "disconnect", device };
    const problem = this.opts.dialect.validate(u);
    if (problem) return Promise.reject(new OutboxError(problem, "invalid"));
    this.registry.remove(device);
    return this.outbox.accept(u);
  }

  /** Asks the platform for attribute values; resolves to {key: value} (empty keys = all). */
  requestAttributes(flowName: string, scope: AttributeScope, keys: string[], timeoutMs = 20000): Promise<Values> {
    return this.attributeRequests.request(this.registry.current(flowName), scope, keys, timeoutMs);
  }

  /**
   * Routes RPCs, attribute updates and device notices to `listener` until the returned
   * function is called. Devices already announced count as connected for it at once.
   */
  listen(listener: DownlinkListener): () => void {
    const remove = this.router.listeners.add(listener);
    if (this.connected && listener.onDeviceConnected) for (const d of [...this.registry.all()]) if (this.router.listeners.watches(listener, d.name)) listener.onDeviceConnected(d.name);
    return remove;
  }

  /** Answers an RPC the platform is waiting on; refused when it is not open (e.g. answered already). */
  answerRpc(ctx: { device?: string; id: number; method?: string }, data: unknown): Promise<void> {
    return this.router.answer(ctx, data);
  }

  /** An RPC from the gateway device itself to the server. */
  gatewayRpc(method: string, params: unknown, timeoutMs = 10000, ahead = false): Promise<unknown> {
    const { id, answer } = this.gatewayRequests.open(timeoutMs, () => `gateway RPC "${method}"`);
    this.ownRequests.set(id, method);
    answer.then(
      () => this.ownRequests.delete(id),
      () => this.ownRequests.delete(id),
    );
    const u: Uplink = { kind: "gatewayRpcRequest", id, method, params };
    // `ahead`: the session's own request, before everything waiting, even while the outbox is held.
    (ahead ? this.outbox.sendAhead(u) : this.outbox.send(u)).catch((err: Error) => this.gatewayRequests.fail(id, err));
    return answer;
  }

  /**
   * Connected and subscribed: announce every known device, then deliver the outbox. Where the
   * platform tells its limits, data waits for them (at most LIMITS_HOLD_MS): the first batch
   * after a reconnect, a backlog, must already keep to them.
   */
  private onUp(transport: Transport): void {
    const announcements = this.announcements.registered();
    const ask = this.opts.askLimits ?? this.opts.dialect.hasGatewayRpc;
    this.stats.connected();
    // Where the platform answers announcements itself (Watson's manage), each is sent on its own so that its refusal or silence is a warning.
    const answered = this.opts.dialect.gatewayAnnouncement?.() !== undefined;
    this.outbox.attach(this.stats.wrap(this.acks.wrap(transport)), answered ? [] : announcements, ask);
    this.setState({ state: "connected" });
    for (const d of [...this.registry.all()]) this.router.deviceConnected(d.name); // its requests queue behind its announcement
    if (ask) void this.fetchLimits();
    this.announcements.connected(answered ? announcements : []);
  }

  private async fetchLimits(): Promise<void> {
    const hold = setTimeout(() => this.outbox.release(), LIMITS_HOLD_MS);
    try {
      const limits = parseSessionLimits(await this.gatewayRpc("getSessionLimits", undefined, 10000, true));
      this.limits = limits;
      if (limits.maxPayloadSize) this.outbox.maxPayload = Math.min(limits.maxPayloadSize, this.configuredPayload);
      this.outbox.setLimits({ rates: { own: limits.rateLimits, devices: limits.gatewayRateLimits }, maxInflight: limits.maxInflightMessages });
      this.emit("limits", limits);
    } catch (err) {
      const lost = err instanceof OutboxError && err.code === "closed";
      if (!this.stopping && !lost) this.warn(`session limits unknown, keeping a max payload of ${this.outbox.maxPayload} bytes: ${(err as Error).message}`);
    } finally {
      clearTimeout(hold);
      this.outbox.release();
    }
  }

  /** The user's max payload; the server's (when smaller) wins once it is known. */
  setMaxPayload(bytes: number): void {
    this.configuredPayload = bytes;
    this.outbox.maxPayload = Math.min(bytes, this.limits?.maxPayloadSize ?? Infinity);
  }

  private onMessage(topic: string, payload: Buffer): void {
    const d = this.opts.dialect.decode(topic, payload);
    if (d === null) return;
    if ("error" in d) return this.warn(`ignored a message from the server: ${d.error}`);
    this.onDownlink(d);
  }

  private onDownlink(d: Downlink): void {
    switch (d.kind) {
      case "uplinkAck":
        if (!this.acks.settle(d.key, d.failure)) this.warn(d.failure !== undefined && this.opts.dialect.failureKey ? d.failure : `ignored an acknowledgement for ${d.key}: nothing waits for it (late, or answered already)`);
        return;
      case "group":
        for (const part of d.parts) this.onDownlink(part);
        if (d.answer) this.outbox.send(d.answer, false).catch((err: Error) => this.warn(`answering the platform failed: ${err.message}`));
        return;
      case "attributeResponse":
        return this.attributeRequests.answer(d);
      case "gatewayRpcResponse":
        this.gatewayRequests.settle(d.id, d.data);
        return;
      case "gatewayRpcRequest":
        if (this.ownRequests.get(d.id) === d.method) {
          // Our own request, echoed: a plain broker (no ThingsBoard behind it) will not tell limits.
          if (d.method === "getSessionLimits") this.outbox.release();
          return;
        }
        if (this.serviceRpcs?.handles(d.method)) {
          this.emit("downlink", d);
          return this.serviceRpcs.answer(d, (u) => this.outbox.send(u, false));
        }
        break;
      case "deviceRenamed":
        this.registry.rename(d.from, d.to);
        break;
      case "deviceDeleted":
        this.registry.deleted(d.device);
        break;
      case "deviceDisconnected":
        this.registry.remove(d.device);
        this.warn(`the server disconnected "${d.device}" (reason ${d.reason}); it is announced again with its next data`);
        break;
    }
    this.router.route(d);
    this.emit("downlink", d);
  }

  private setState(s: SessionState): void {
    const same = s.state === this.current.state && (s as { reason?: string }).reason === (this.current as { reason?: string }).reason;
    this.current = s;
    if (!same) this.emit("state", s);
  }

  /** Each distinct warning once: a misbehaving server must not flood the log. */
  private warn(message: string): void {
    if (this.warned.has(message)) return;
    if (this.warned.size > 200) this.warned.clear();
    this.warned.add(message);
    this.emit("warning", message);
  }
}
