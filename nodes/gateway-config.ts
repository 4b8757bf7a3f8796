// gateway-config: owns the one MQTT session of a gateway. The session opens with its first
// user and closes when its last user is removed (not merely redeployed), or when this config
// node itself stops: the core mqtt-broker pattern.
import type { Node, NodeAPI, NodeDef } from "node-red";
import { dialectFor } from "../lib/dialect";
import type { Credentials, Dialect } from "../lib/dialect/types";
import { GatewaySession, type Handover, type TlsOptions } from "../lib/session/session";
import { numberOr } from "./common/property";
import { statusOf } from "./common/status";
import type { GatewayConfigDef, GatewayConfigNode } from "./common/gateway-types";

interface TlsConfigNode extends Node {
  addTLSOptions(options: TlsOptions): void;
}

const URL_SCHEMES = /^(mqtts?|wss?):\/\/[^/\s]+/;

/**
 * What a gateway-config redeployed in place leaves to its successor (same node id): the msgs
 * not yet acknowledged and the devices announced, when it still speaks to the same server: a
 * changed reconnect delay or batch window must not cost the readings queued during an outage.
 */
const successors = new Map<string, { server: string; handover: Handover }>();

export = function (RED: NodeAPI): void {
  function GatewayConfig(this: GatewayConfigNode, config: GatewayConfigDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const users = new Map<string, Node>();
    let session: GatewaySession | undefined;
    const t = (key: string): string => RED._(key);
    const server = `${config.platform} ${config.url}`;

    // The platform's dialect for this gateway's identity (ThingsPanel: its device number names its topics).
    let dialect: Dialect | undefined;
    let dialectProblem: string | undefined;
    try {
      dialect = dialectFor(config.platform || "thingsboard", { deviceNumber: (config.deviceNumber ?? "").trim() || undefined });
    } catch (err) {
      dialectProblem = `gateway-config: ${(err as Error).message}`;
    }
    const problem = !URL_SCHEMES.test(config.url || "") ? RED._("gateway-config.errors.bad-url", { url: config.url || "" }) : dialectProblem;
    if (problem) node.error(problem);

    function credentials(): Credentials {
      const c = node.credentials ?? {};
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

    function create(): GatewaySession {
      const s = new GatewaySession({
        url: config.url,
        dialect: dialect as Dialect,
        credentials: credentials(),
        tls: tlsOptions(),
        protocolVersion: config.protocolVersion === "5" ? 5 : 4,
        keepaliveS: numberOr(config.keepalive, 60),
        ackTimeoutMs: numberOr(config.ackTimeout, 10) * 1000,
        qos: config.qos === "0" ? 0 : 1,
        reconnect: { minMs: numberOr(config.reconnectMin, 1) * 1000, maxMs: numberOr(config.reconnectMax, 60) * 1000 },
        outbox: {
          batchWindowMs: numberOr(config.batchWindow, 20),
          maxQueued: numberOr(config.maxQueued, 100000),
          overflow: config.overflow === "drop-oldest" ? "drop-oldest" : "reject",
        },
      });
      const predecessor = successors.get(node.id);
      successors.delete(node.id);
      if (predecessor && predecessor.server === server) s.adopt(predecessor.handover);
      s.setMaxPayload(numberOr(config.maxPayload, s.opts.dialect.defaultMaxPayload));
      // "outbox full" stays on the nodes until the connection is back, over the reconnect attempts.
      let full = 0;
      const push = (): void => {
        const status = full > 0 && s.state.state !== "connected" ? { fill: "red" as const, shape: "dot" as const, text: RED._("gateway-config.status.full", { n: full }) } : statusOf(s.state, t);
        for (const u of users.values()) u.status(status);
      };
      s.on("state", (state) => {
        if (state.state === "connected") full = 0;
        push();
        if (state.state === "disconnected" && state.reason !== "closed") node.log(RED._("gateway-config.log.disconnected", { reason: state.reason }));
        if (state.state === "connected") node.log(RED._("gateway-config.log.connected", { url: config.url }));
      });
      s.on("warning", (message) => node.warn(message));
      s.outbox.on("full", (waiting: number) => {
        full = waiting;
        push();
      });
      return s;
    }

    node.session = () => {
      if (!session) throw new Error(problem ?? "gateway-config: the session is not open (no node uses it)");
      return session;
    };

    node.register = (user: Node) => {
      users.set(user.id, user);
      if (problem) {
        user.status({ fill: "red", shape: "ring", text: RED._("gateway-config.status.bad-config") });
        return;
      }
      if (!session) {
        session = create();
        session.start();
      }
      user.status(statusOf(session.state, t));
    };

    node.deregister = async (user: Node, removed: boolean) => {
      users.delete(user.id);
      if (removed && users.size === 0 && session) {
        const s = session;
        session = undefined;
        await s.stop();
      }
    };

    node.on("close", (removed: boolean, done: () => void) => {
      const s = session;
      session = undefined;
      if (!s) return done();
      if (removed) return void s.stop().then(done, done);
      s.handOver().then((handover) => {
        successors.set(node.id, { server, handover });
        done();
      }, done);
    });
  }

  RED.nodes.registerType("gateway-config", GatewayConfig as unknown as (this: Node, def: NodeDef) => void, {
    credentials: {
      token: { type: "password" },
      username: { type: "text" },
      password: { type: "password" },
    },
  });
};
