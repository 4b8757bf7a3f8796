// The runtime side of the editor's "IoT gateway" sidebar: per gateway-config, a snapshot of its
// session (lib/session/snapshot.ts) and the last errors and warnings of the nodes using it,
// published over Node-RED's comms (topic iot-gateway/gateway/<id>) at most twice a second and only
// when something changed, and served once by GET gateway-config/sidebar for the first paint.
// Nothing is read or published while no editor is open: every open editor asks GET
// gateway-config/sidebar every 20 s, a comms connection starts the feed at once, and the last
// connection closing stops it at once (Node-RED 4 and 5 tell; 3.1 does not: there the feed stops
// when the editors' GETs stop).
import { EventEmitter } from "events";
import type { Node, NodeAPI } from "node-red";
import type { OutboxStats } from "../../lib/outbox/stats";
import type { GatewaySession } from "../../lib/session/session";
import { SessionView, type SessionSnapshot } from "../../lib/session/snapshot";

export const FEED_TOPIC = "iot-gateway/gateway/";
/** Between two publishes of one gateway, at least. */
const EVERY_MS = 500;
/** An editor's GET (or comms connection) keeps the feed going this long: its sidebar asks every 20 s. */
const KEEPS_MS = 45000;
/** Errors and warnings kept per gateway. */
export const ERRORS_KEPT = 10;
const MAX_MESSAGE = 500;

/** Node-RED's log levels (@node-red/util log.js). */
const FATAL = 10;
const ERROR = 20;
const WARN = 30;

export interface NodeError {
  at: number;
  level: "error" | "warn";
  /** The node that had it: its runtime id, the id in the editor (`alias`, in a subflow), name and type. */
  node: { id: string; alias?: string; z?: string; name?: string; type?: string };
  message: string;
}

export interface GatewayFeedSnapshot {
  id: string;
  now: number;
  platform: string;
  server: string;
  /** Why the gateway-config cannot open a session (bad URL…). */
  problem?: string;
  /** Nodes registered with it (deployed, enabled). */
  users: number;
  /** Undefined while no session is open (no node uses it). */
  session?: SessionSnapshot;
  errors: NodeError[];
}

interface LogEvent {
  level: number;
  id?: string;
  _alias?: string;
  z?: string;
  name?: string;
  type?: string;
  msg?: unknown;
}

/** An Error's message; the debug node's log handler may have encoded the log msg in place before ours ran. */
function messageOf(m: unknown): string | undefined {
  if (m instanceof Error) return m.message;
  // encoded to a JSON string: {"__enc__":true,…} (Node-RED 4, 5) or {"name":"Error","message":…} (3.1)
  if (typeof m === "string" && m.startsWith("{")) {
    try {
      return messageOf(JSON.parse(m));
    } catch {
      return undefined;
    }
  }
  if (typeof m !== "object" || m === null) return undefined;
  const o = m as { message?: unknown; __enc__?: unknown; data?: unknown };
  if (typeof o.message === "string") return o.message;
  return o.__enc__ === true ? messageOf(o.data) : undefined;
}

function text(m: unknown): string {
  let s: string;
  const message = messageOf(m);
  if (message !== undefined) s = message;
  else if (typeof m === "string") s = m;
  else {
    try {
      s = JSON.stringify(m) ?? String(m);
    } catch {
      s = String(m);
    }
  }
  return s.length > MAX_MESSAGE ? s.slice(0, MAX_MESSAGE - 1) + "…" : s;
}

/** One per runtime: who watches, the feeds, the log handler. */
class Hub {
  readonly feeds = new Map<string, GatewayFeed>();
  /** The editors' comms sessions known to be open. */
  private readonly sessions = new Set<unknown>();
  private lastSeenAt = 0;
  private logs: EventEmitter | undefined;

  constructor(public RED: NodeAPI) {
    RED.events.on("comms:connection-added", (e: { session?: unknown } | undefined) => {
      this.sessions.add(e?.session);
      this.seen();
    });
    RED.events.on("comms:connection-removed", (e: { session?: unknown } | undefined) => {
      this.sessions.delete(e?.session);
      // the last editor closed: stop now rather than when its GETs would have been missed
      if (this.sessions.size === 0) this.lastSeenAt = 0;
      this.changed();
    });
    this.listen(RED);
  }

  /**
   * Node-RED's log handler, again at each load of the module: the log's init (a runtime started
   * again in the same process, as the test harness does per flow) forgets every handler added.
   * The one added before is removed first, so there is only ever one.
   */
  listen(RED: NodeAPI): void {
    const log = RED.log as NodeAPI["log"] & { removeHandler?(h: EventEmitter): void };
    if (this.logs) log.removeHandler?.(this.logs);
    this.logs = new EventEmitter();
    this.logs.on("log", (e: LogEvent) => this.log(e));
    log.addHandler(this.logs);
  }

  /** The first paint's figures (each load of the module serves them on its own admin app). */
  serve(RED: NodeAPI): void {
    RED.httpAdmin.get("/gateway-config/sidebar", RED.auth.needsPermission("gateway-config.read"), (_req, res) => {
      this.seen();
      const out: Record<string, GatewayFeedSnapshot> = {};
      for (const [id, f] of this.feeds) out[id] = f.snapshot();
      res.json({ now: Date.now(), gateways: out });
    });
  }

  get watched(): boolean {
    return Date.now() - this.lastSeenAt < KEEPS_MS;
  }

  private seen(): void {
    this.lastSeenAt = Date.now();
    this.changed();
  }

  private changed(): void {
    const on = this.watched;
    for (const f of this.feeds.values()) f.watch(on);
  }

  private log(e: LogEvent): void {
    if (!e || typeof e.id !== "string" || (e.level !== ERROR && e.level !== WARN && e.level !== FATAL)) return;
    for (const f of this.feeds.values()) if (f.owns(e.id)) f.error(e);
  }
}

/**
 * By the runtime's event bus, not by RED: a runtime that loads the module again (a test harness
 * does, for each flow) keeps one log handler and one count of connections.
 */
const hubs = new WeakMap<object, Hub>();

/** The runtime's hub (call it when the module loads, before editors connect). */
export function sidebarHub(RED: NodeAPI): { feed(node: Node, users: ReadonlyMap<string, Node>, info: FeedInfo): GatewayFeed } {
  let hub = hubs.get(RED.events);
  if (!hub) {
    hub = new Hub(RED);
    hubs.set(RED.events, hub);
  }
  else hub.listen(RED);
  hub.RED = RED;
  hub.serve(RED);
  const h = hub;
  return { feed: (node, users, info) => new GatewayFeed(h, node, users, info) };
}

export interface FeedInfo {
  platform: string;
  server: string;
  problem?: string;
}

/** One gateway-config's feed. */
export class GatewayFeed {
  private view: SessionView | undefined;
  private readonly errors: NodeError[] = [];
  private timer: NodeJS.Timeout | undefined;
  private shown = "";

  constructor(private readonly hub: Hub, private readonly node: Node, private readonly users: ReadonlyMap<string, Node>, private readonly info: FeedInfo) {
    hub.feeds.set(node.id, this);
    this.watch(hub.watched);
  }

  /** A session opened: its view, watched at once if an editor is open. */
  attach(session: GatewaySession, waiting: () => OutboxStats | undefined): void {
    this.view?.close();
    this.view = new SessionView(session, waiting);
    if (this.timer) this.view.watch();
  }

  detach(): void {
    this.view?.close();
    this.view = undefined;
  }

  close(): void {
    this.detach();
    this.watch(false);
    if (this.hub.feeds.get(this.node.id) === this) this.hub.feeds.delete(this.node.id);
  }

  owns(id: string): boolean {
    return id === this.node.id || this.users.has(id);
  }

  error(e: LogEvent): void {
    this.errors.push({
      at: Date.now(),
      level: e.level === WARN ? "warn" : "error",
      node: { id: e.id as string, alias: e._alias, z: e.z, name: e.name, type: e.type },
      message: text(e.msg),
    });
    if (this.errors.length > ERRORS_KEPT) this.errors.shift();
  }

  watch(on: boolean): void {
    if (on && !this.timer) {
      this.timer = setInterval(() => this.tick(), EVERY_MS);
      this.timer.unref?.();
      this.view?.watch();
    } else if (!on && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
      this.shown = "";
      this.view?.unwatch();
    }
  }

  snapshot(now = Date.now()): GatewayFeedSnapshot {
    return {
      id: this.node.id,
      now,
      platform: this.info.platform,
      server: this.info.server,
      problem: this.info.problem,
      users: this.users.size,
      session: this.view?.read(now),
      errors: [...this.errors],
    };
  }

  private tick(): void {
    if (!this.hub.watched) return this.watch(false);
    const snap = this.snapshot();
    // the same figures at another moment are no news: the editor counts ages on from `now`
    const key = JSON.stringify({ ...snap, now: 0, session: snap.session && { ...snap.session, now: 0 } });
    if (key === this.shown) return;
    this.shown = key;
    this.hub.RED.comms.publish(FEED_TOPIC + this.node.id, snap, false);
  }
}
