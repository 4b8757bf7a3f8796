// gateway-config: owns the one MQTT session of a gateway. The session opens with its first
// user and closes when its last user is removed (not merely redeployed), or when this config
// node itself stops: the core mqtt-broker pattern.
//
// Where waiting msgs live (properties added with the disk store; a flow saved before them has
// none of them and keeps the memory store and done-on-PUBACK):
//   storeType     "memory" | "disk"         missing: "memory" (the editor's default for new nodes: "disk")
//   storePath     folder                    "" or missing: <userDir>/iot-gateway/<this node's id>
//   storeMaxMB    MiB of waiting records    default 512; 0 = no cap
//   storeMaxAgeH  hours a msg may wait      default 168 (7 days); 0 = no limit
//   overflow      "reject" | "drop-oldest"  at the cap or the age limit (the memory store: at maxQueued)
//   doneWhen      "stored" | "acknowledged" missing: "stored" with the disk store (done() once the msg is
//                                           on disk), "acknowledged" with the memory store (the only choice)
// The gateway as a device (added later; a flow saved before has neither and gets the defaults):
//   statsPeriod   seconds between statistics reports, 0 = off, 10..3600   missing: 60
//   serviceRpcs   answer gateway_ping, gateway_devices, gateway_stats, gateway_version   missing: true
// Provisioning (ThingsBoard; auth "provision", added later, so older flows never provision):
//   provisionDevice  the gateway device's name   provisionType  "ACCESS_TOKEN" | "MQTT_BASIC" (missing: token)
//   credentials provisionKey, provisionSecret; provisioned = what the server gave (JSON, no editor field)
// A redeploy hands what waits to the successor, also when the broker URL changed (the user who
// fixes a URL wants the data to arrive); the store folder survives it and is deleted only with
// the gateway-config.
import fs from "fs";
import os from "os";
import path from "path";
import type { Node, NodeAPI, NodeDef, NodeStatus } from "node-red";
import { dialectFor } from "../lib/dialect";
import type { Credentials, Dialect } from "../lib/dialect/types";
import { fmtCount, OutboxMonitor } from "../lib/outbox/stats";
import { DevicesFile } from "../lib/outbox/store/devices-file";
import { DiskStore, type DoneWhen } from "../lib/outbox/store/disk";
import { fmtAge } from "../lib/outbox/store/disk-stats";
import { MemoryStore } from "../lib/outbox/store/memory";
import type { RegistrySnapshot } from "../lib/session/registry";
import { GatewaySession, type Handover, type TlsOptions } from "../lib/session/session";
import { ServiceRpcs } from "../lib/session/service-rpcs";
import { sessionStatsSource, StatsReporter, statsPeriodMs, STATS_PERIOD, totals } from "../lib/session/stats-report";
import { carryOver } from "../lib/outbox/store/carry-over";
import { numberOr } from "./common/property";
import type { Provisioner } from "../lib/session/provision";
import { lineValues, type LineFigures } from "../lib/session/stats-lines";
import type { ModbusConnectionNode } from "./modbus-connection.types";
import { GatewayProvisioning } from "./common/gateway-provisioning";
import { sidebarHub } from "./common/sidebar-feed";
import { StatusBoard } from "./common/status-board";
import { statusOf } from "./common/status";
import type { GatewayConfigDef, GatewayConfigNode } from "./common/gateway-types";

interface TlsConfigNode extends Node {
  addTLSOptions(options: TlsOptions): void;
}

/** This package's name and version (gateway_version): package.json is two folders up from dist/nodes. */
const PACKAGE = readPackage();

function readPackage(): { name: string; version: string } {
  try {
    const p = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "package.json"), "utf8")) as { name?: unknown; version?: unknown };
    return { name: String(p.name ?? "node-red-contrib-iot-gateway"), version: String(p.version ?? "unknown") };
  } catch {
    return { name: "node-red-contrib-iot-gateway", version: "unknown" };
  }
}

/** The runtime's version; a runtime that does not tell (a test harness) is asked through its package. */
function nodeRedVersion(RED: NodeAPI): string {
  try {
    if (typeof RED.version === "function") return String(RED.version() as unknown);
  } catch {
    /* fall through */
  }
  try {
    return String((require("node-red/package.json") as { version?: unknown }).version ?? "unknown");
  } catch {
    return "unknown";
  }
}

const URL_SCHEMES = /^(mqtts?|wss?):\/\/[^/\s]+/;
const MiB = 1024 * 1024;

/** One open session with its store and the helpers that live as long as it. */
interface Running {
  session: GatewaySession;
  store: MemoryStore | DiskStore;
  monitor: OutboxMonitor;
  reporter: StatsReporter;
  devices?: DevicesFile<RegistrySnapshot>;
  /** The predecessor's folder, being emptied into this session (its store was moved or made memory). */
  moved?: { close(): Promise<void> };
  /** Asking the server for the gateway's credentials: the session starts when they come. */
  provisioner?: Provisioner;
}

export = function (RED: NodeAPI): void {
  /**
   * What a gateway-config redeployed in place leaves to its successor (same node id): the msgs
   * not yet acknowledged and the devices announced. A changed reconnect delay, batch window or
   * broker URL must not cost the readings queued during an outage. One map per runtime.
   */
  const successors = new Map<string, Handover>();
  /** The store folder a redeployed gateway-config used: a successor on another folder (or in memory) empties it. */
  const previousDirs = new Map<string, string>();
  const sidebar = sidebarHub(RED);

  function GatewayConfig(this: GatewayConfigNode, config: GatewayConfigDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const users = new Map<string, Node>();
    let running: Running | undefined;
    /** A store closing (last user removed): the next one on the same folder opens after it. */
    let closing: Promise<void> = Promise.resolve();
    const t = (key: string): string => RED._(key);

    const disk = config.storeType === "disk";
    const doneWhen: DoneWhen = !disk ? "acknowledged" : config.doneWhen === "acknowledged" ? "acknowledged" : "stored";
    const storeDir = path.resolve(config.storePath || path.join(RED.settings.userDir || path.join(os.homedir(), ".node-red"), "iot-gateway", node.id));

    // The platform's dialect for this gateway's identity (ThingsPanel: its device number names its topics).
    let dialect: Dialect | undefined;
    let dialectProblem: string | undefined;
    const watson = config.platform === "watson";
    try {
      const opt = (v: string | undefined): string | undefined => (v ?? "").trim() || undefined;
      dialect = dialectFor(config.platform || "thingsboard", watson
        ? { org: opt(config.watsonOrg), typeId: opt(config.watsonType), deviceId: opt(config.watsonId), deviceType: opt(config.watsonDeviceType), ...watsonManagement(config) }
        : { deviceNumber: opt(config.deviceNumber) });
    } catch (err) {
      dialectProblem = `gateway-config: ${(err as Error).message}`;
    }
    // Watson IoT: the organisation's own host, TLS on 8883, when no URL is given.
    if (watson && !(config.url ?? "").trim() && config.watsonOrg) config.url = `mqtts://${config.watsonOrg.trim()}.messaging.internetofthings.ibmcloud.com:8883`;
    const provisioning = new GatewayProvisioning(RED, node, config, storeDir, tlsOptions, () => refresh(true));
    const problem = !URL_SCHEMES.test(config.url || "") ? RED._("gateway-config.errors.bad-url", { url: config.url || "" }) : dialectProblem ?? provisioning.problem();
    const feed = sidebar.feed(node, users, { platform: config.platform || "thingsboard", server: config.url || "", problem });
    if (problem) node.error(problem);

    function credentials(): Credentials {
      const c = node.credentials ?? {};
      if (provisioning.enabled) return provisioning.credentials();
      if (config.auth === "basic") return { clientId: config.clientId || undefined, username: c.username, password: c.password };
      if (config.auth === "x509") return { clientId: config.clientId || undefined };
      return { accessToken: c.token, clientId: config.clientId || undefined };
    }

    function tlsOptions(): TlsOptions | undefined {
      if (!config.tls) return undefined;
      const tlsNode = RED.nodes.getNode(config.tls) as TlsConfigNode | null;
      if (!tlsNode) return undefined;
      const opts: TlsOptions = {};
      tlsNode.addTLSOptions(opts);
      return opts;
    }

    function createStore(): MemoryStore | DiskStore {
      if (!disk) return new MemoryStore();
      const store = new DiskStore({
        dir: storeDir,
        maxBytes: Math.max(0, numberOr(config.storeMaxMB, 512)) * MiB,
        maxAgeMs: Math.max(0, numberOr(config.storeMaxAgeH, 168)) * 3600000,
        policy: config.overflow === "drop-oldest" ? "drop-oldest" : "reject",
        doneWhen,
        telemetryPieces: dialect?.telemetryPieces,
      });
      store.on("warning", (m: string) => node.warn(`store ${storeDir}: ${m}`));
      store.on("failed", (m: string) => node.error(m));
      store.on("info", (m: string) => node.log(`store ${storeDir}: ${m}`));
      store.on("recovered", (r: { count: number; oldestAt: number }) => node.log(`store ${storeDir}: ${r.count} msgs of the previous run wait for the connection (oldest ${fmtAge(Date.now() - r.oldestAt)})`));
      return store;
    }

    function create(): Running {
      const store = createStore();
      const session = new GatewaySession({
        url: config.url,
        dialect: dialect as Dialect,
        credentials: credentials(),
        tls: tlsOptions(),
        // Watson IoT speaks MQTT 3.1.1 only: it refuses a v5 CONNECT.
        protocolVersion: config.protocolVersion === "5" && !watson ? 5 : 4,
        keepaliveS: numberOr(config.keepalive, 60),
        ackTimeoutMs: numberOr(config.ackTimeout, 10) * 1000,
        qos: config.qos === "0" ? 0 : 1,
        reconnect: { minMs: numberOr(config.reconnectMin, 1) * 1000, maxMs: numberOr(config.reconnectMax, 60) * 1000 },
        outbox: {
          batchWindowMs: numberOr(config.batchWindow, 20),
          // The disk store counts bytes and age itself: the count bound is for the memory store.
          maxQueued: disk ? Number.MAX_SAFE_INTEGER : numberOr(config.maxQueued, 100000),
          overflow: config.overflow === "drop-oldest" ? "drop-oldest" : "reject",
        },
        store,
      });
      const monitor = new OutboxMonitor(session.outbox, store).start();
      feed.attach(session, () => monitor.read());
      const source = sessionStatsSource(session, modbusLines);
      const reporter = new StatsReporter(source, statsPeriodMs(numberOr(config.statsPeriod, STATS_PERIOD.default)), () => monitor.read()).start();
      if (config.serviceRpcs !== false) {
        session.serviceRpcs = new ServiceRpcs({
          devices: () => [...session.registry.all()].map((d) => ({ name: d.name, profile: d.profile })),
          stats: () => totals(source, monitor.read()),
          version: () => ({ current_version: PACKAGE.version, package: PACKAGE.name, node_red: nodeRedVersion(RED), node: process.version }),
          warn: (m) => node.warn(m),
        });
      }
      const r: Running = { session, store, monitor, reporter };
      const predecessor = successors.get(node.id);
      successors.delete(node.id);
      const prevDir = previousDirs.get(node.id);
      previousDirs.delete(node.id);
      if (store instanceof DiskStore) {
        const devices = new DevicesFile<RegistrySnapshot>(storeDir, () => session.registry.snapshot(), (m) => node.warn(m));
        r.devices = devices;
        // Devices first: a restarted gateway announces them (under their current names) before their backlog.
        if (!predecessor) session.registry.restore(readRegistry(devices));
        session.registry.on("changed", () => devices.changed());
        const opened = closing.then(() => store.open());
        opened.then(() => store.status === "open" && r.devices?.start(), () => undefined);
      }
      if (predecessor && prevDir !== undefined && prevDir !== (store instanceof DiskStore ? store.dir : undefined)) {
        session.registry.restore({ devices: predecessor.devices, renames: predecessor.renames });
        r.moved = carryOver(prevDir, predecessor.entries, {
          adopt: (entries) => session.outbox.adopt(entries),
          warn: (m) => node.warn(m),
          emptied: () => node.log(`store ${prevDir}: emptied into ${disk ? storeDir : "the memory store"} and removed`),
        });
      } else if (predecessor) session.adopt(predecessor);
      // Watson IoT tells no limits but closes the connection past its fixed one: never configure above it.
      const maxPayload = numberOr(config.maxPayload, session.opts.dialect.defaultMaxPayload);
      session.setMaxPayload(watson ? Math.min(maxPayload, session.opts.dialect.defaultMaxPayload) : maxPayload);
      session.on("state", (state) => {
        if (state.state === "connected") full = 0;
      if (state.state !== "connected") unannounced = undefined;
        refresh(true);
        if (state.state === "disconnected" && state.reason !== "closed") node.log(RED._("gateway-config.log.disconnected", { reason: state.reason }));
        if (state.state === "connected") node.log(RED._("gateway-config.log.connected", { url: config.url }));
      });
      session.on("warning", (message) => node.warn(message));
      // Watson's managed gateway: a refused or unanswered manage of the gateway itself shows on every node.
      session.on("announced", (why) => {
        unannounced = why;
        refresh(true);
      });
      const onFull = (waiting: number): void => {
        full = waiting;
        refresh();
      };
      session.outbox.on("full", () => onFull(session.outbox.queued));
      if (store instanceof DiskStore) {
        store.on("full", () => onFull(session.outbox.queued));
        store.on("failed", () => refresh(true));
      }
      return r;
    }

    /** What the last run wrote (the registry's restore validates every entry of it). */
    function readRegistry(file: DevicesFile<RegistrySnapshot>): Partial<RegistrySnapshot> | undefined {
      const v: unknown = file.read();
      return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Partial<RegistrySnapshot>) : undefined;
    }

    // ---- status: the session's state, what waits, and at most one update a second ----------

    /** "outbox full" stays on the nodes until the connection is back, over the reconnect attempts. */
    let full = 0;
    /** Why the platform did not accept the gateway's own announcement (Watson: its manage); cleared when it does. */
    let unannounced: string | undefined;

    function currentStatus(): NodeStatus {
      if (problem) return { fill: "red", shape: "ring", text: RED._("gateway-config.status.bad-config") };
      if (!running) return statusOf({ state: "disconnected", reason: "closed" }, t);
      const { session, store, monitor } = running;
      if (running.provisioner) return provisioning.status(running.provisioner.state);
      if (store instanceof DiskStore && store.status === "failed") return { fill: "red", shape: "ring", text: RED._("gateway-config.status.store-failed") };
      if (session.state.state === "connected" && unannounced) return { fill: "yellow", shape: "dot", text: RED._("gateway-config.status.not-managed") };
      if (session.state.state === "connected") return statusOf(session.state, t);
      if (full > 0) return { fill: "red", shape: "dot", text: RED._("gateway-config.status.full", { n: fmtCount(full) }) };
      const base = statusOf(session.state, t);
      const s = monitor.read();
      if (s.waiting === 0) return base;
      const age = s.oldestAgeMs === undefined ? "" : `, ${t("gateway-config.status.oldest")} ${fmtAge(s.oldestAgeMs)}`;
      return { ...base, text: `${base.text} · ${fmtCount(s.waiting)} ${t("gateway-config.status.waiting")}${age}` };
    }

    const board = new StatusBoard(users, currentStatus);
    const refresh = (urgent = false): void => board.refresh(urgent);

    // ---- the API of the nodes that use it --------------------------------------------------

    node.platform = config.platform || "thingsboard";

    node.session = () => {
      if (!running) throw new Error(problem ?? "gateway-config: the session is not open (no node uses it)");
      return running.session;
    };

    node.stats = () => running?.monitor.read();

    node.figures = () => (running ? totals(sessionStatsSource(running.session, modbusLines), running.monitor.read()) : undefined);

    node.register = (user: Node) => {
      users.set(user.id, user);
      if (!problem && !running) {
        running = create();
        if (!provisioning.startIfNeeded(running)) running.session.start();
      }
      user.status(currentStatus());
    };

    /** Stops the session and closes its store; `remove` deletes the store folder too. */
    async function shut(r: Running, how: "stop" | "handover" | "remove"): Promise<void> {
      r.provisioner?.stop();
      if (how === "remove") provisioning.remove();
      r.monitor.stop();
      r.reporter.stop();
      feed.detach();
      await r.devices?.close(how !== "remove");
      await r.moved?.close();
      if (how === "handover") {
        successors.set(node.id, await r.session.handOver());
        if (r.store instanceof DiskStore) previousDirs.set(node.id, r.store.dir);
      }
      else await r.session.stop();
      if (r.store instanceof DiskStore) await r.store.close(how === "remove");
    }

    node.deregister = async (user: Node, removed: boolean) => {
      users.delete(user.id);
      if (removed && users.size === 0 && running) {
        const r = running;
        running = undefined;
        closing = shut(r, "stop").catch((err: Error) => node.warn(err.message));
        await closing;
      }
    };

    node.on("close", (removed: boolean, done: () => void) => {
      board.close();
      feed.close();
      const r = running;
      running = undefined;
      const finish = (err?: Error): void => {
        if (err) node.warn(err.message);
        done();
      };
      if (!r) {
        if (removed) provisioning.remove();
        // No session (no user left), but a deleted gateway-config still takes its folder along.
        if (removed && disk) void closing.then(() => removeFolder(storeDir)).then(() => done(), finish);
        else void closing.then(() => done());
        return;
      }
      shut(r, removed ? "remove" : "handover").then(() => finish(), finish);
    });
  }

  /** The counters of every open Modbus line of this runtime, for the gateway's statistics. */
  function modbusLines(): Record<string, number> {
    const lines: LineFigures[] = [];
    RED.nodes.eachNode((n) => {
      if (n.type !== "modbus-connection") return;
      const c = (RED.nodes.getNode(n.id) as ModbusConnectionNode | null)?.lineStats?.();
      if (c) lines.push({ name: (n as { name?: string }).name || c.target, requests: c.requests, errors: c.errors, timeouts: c.timeouts });
    });
    return lineValues(lines);
  }

  /** A folder of a deleted gateway-config whose session was not open: locked by nobody here. */
  async function removeFolder(dir: string): Promise<void> {
    const store = new DiskStore({ dir });
    await store.open();
    store.clear();
    await store.close(store.status === "open");
  }

  /**
   * Watson IoT's managed gateway (added later; a flow saved before has neither: not managed).
   *   watsonManaged   boolean    the device management protocol on the same connection
   *   watsonLifetime  seconds    of each manage, 0 (never dormant) or >= 3600; missing or blank: 3600
   *   watsonRenewMs   tests only: re-manage this often instead of at 90 % of the lifetime
   */
  function watsonManagement(c: GatewayConfigDef): { managed?: boolean; lifetimeS?: number; renewMs?: number } {
    if (c.watsonManaged !== true) return {};
    const blank = c.watsonLifetime === undefined || String(c.watsonLifetime).trim() === "";
    const renewMs = Number(c.watsonRenewMs);
    return { managed: true, lifetimeS: blank ? undefined : Number(c.watsonLifetime), renewMs: renewMs > 0 ? renewMs : undefined };
  }

  RED.nodes.registerType("gateway-config", GatewayConfig as unknown as (this: Node, def: NodeDef) => void, {
    credentials: {
      token: { type: "password" },
      username: { type: "text" },
      password: { type: "password" },
      provisionKey: { type: "password" },
      provisionSecret: { type: "password" },
      provisioned: { type: "password" },
    },
  });

  // The editor's "IoT gateway" sidebar reads here what waits in each open session's outbox.
  RED.httpAdmin.get("/gateway-config/stats", RED.auth.needsPermission("gateway-config.read"), (_req, res) => {
    const out: Record<string, unknown> = {};
    RED.nodes.eachNode((n) => {
      if (n.type !== "gateway-config") return;
      const stats = (RED.nodes.getNode(n.id) as GatewayConfigNode | null)?.stats?.();
      if (stats) out[n.id] = stats;
    });
    res.json(out);
  });
};
