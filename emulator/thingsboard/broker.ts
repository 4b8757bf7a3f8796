// The MQTT front door: an aedes broker used only as an MQTT 3.1.1 codec and session keeper, with
// its hooks vetting every CONNECT, SUBSCRIBE and PUBLISH before aedes answers. Nothing is routed
// between clients: uplinks are consumed by the gateway session, downlinks are written to one
// client directly, at the QoS of its subscription (capped at 1).
import * as http from 'http';
import * as net from 'net';
import * as tls from 'tls';
import { EventEmitter } from 'events';
import { Duplex } from 'stream';
import { Aedes, Client, Subscription } from 'aedes';
import { WebSocketServer, createWebSocketStream } from 'ws';
import { authenticate, PeerCertificateInfo } from './auth';
import { GatewaySession, SessionTransport } from './gateway-session';
import { Platform } from './platform';
import { ALLOWED_SUBSCRIPTIONS, filterFor } from './topics';
import { Counters, TlsOptions } from './types';

/** Uplinks are re-addressed here after the emulator consumed them, so aedes routes them nowhere. */
const SINK_TOPIC = '$emulator/consumed';

/** Process-wide totals across every emulator instance (benchmarks read these). */
export const counters: Counters = { publishes: 0, bytes: 0, telemetryMessages: 0, telemetryPoints: 0, telemetryValues: 0 };

export interface BrokerOptions {
  host: string;
  port: number;
  wsPort?: number;
  tlsPort?: number;
  tls?: TlsOptions;
}

interface ClientInternals {
  subscriptions: Record<string, { qos: number } | undefined>;
}

type AuthError = Error & { returnCode: number };

function capSubscribeQos(packet: { cmd: string; subscriptions?: Array<{ qos: number }> }): void {
  if (packet.cmd !== 'subscribe' || !packet.subscriptions) return;
  for (const s of packet.subscriptions) if (s.qos > 1) s.qos = 1;
}

function peerCertificate(conn: unknown): PeerCertificateInfo | undefined {
  if (!(conn instanceof tls.TLSSocket)) return undefined;
  const cert = conn.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0) return undefined;
  const cn = cert.subject?.CN;
  return {
    fingerprint256: cert.fingerprint256,
    fingerprint: cert.fingerprint,
    cn: Array.isArray(cn) ? cn[0] : cn,
    authorized: conn.authorized,
  };
}

function listen(server: net.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

export class Broker {
  url = '';
  wsUrl?: string;
  tlsUrl?: string;
  private aedes!: Aedes;
  private readonly servers: net.Server[] = [];
  private readonly sockets = new Set<Duplex>();
  private wss?: WebSocketServer;
  private readonly sessions = new Map<Client, GatewaySession>();
  private readonly closeReasons = new Map<Client, string>();
  private readonly versions = new WeakMap<Client, number>();

  private constructor(private readonly platform: Platform) {}

  static async start(platform: Platform, opts: BrokerOptions): Promise<Broker> {
    const b = new Broker(platform);
    await b.init(opts);
    return b;
  }

  private async init(opts: BrokerOptions): Promise<void> {
    this.aedes = await Aedes.createBroker({
      preConnect: (client, packet, cb) => {
        this.versions.set(client, packet.protocolVersion ?? 4);
        if (packet.protocolVersion === 5) {
          // aedes 1.x answers "unacceptable protocol version" itself; say why in the record.
          this.platform.closedReasons.push('mqtt5 unsupported: aedes 1.x speaks MQTT 3.1/3.1.1 only');
          this.platform.store.record('', '', 'refused', undefined, { reason: 'MQTT 5 CONNECT (not supported by this emulator)' });
          this.platform.log('refused an MQTT 5 CONNECT: this emulator (aedes 1.x) speaks MQTT 3.1.1 only');
        }
        cb(null, true);
      },
      authenticate: (client, username, password, cb) => this.onAuthenticate(client, username, password, cb),
      authorizeSubscribe: (client, sub, cb) => this.onSubscribe(client, sub, cb),
      authorizePublish: (client, packet, cb) => {
        if (!client) return cb(null);
        const session = this.sessions.get(client);
        if (!session || !session.open) return cb(new Error('publish outside a gateway session'));
        const payload: Buffer = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
        const topic = packet.topic;
        counters.publishes++;
        counters.bytes += payload.length;
        const c = this.platform.store.counters;
        c.publishes++;
        c.bytes += payload.length;
        const before = c.telemetryPoints;
        const beforeMsgs = c.telemetryMessages;
        const beforeValues = c.telemetryValues;
        if (payload.length > this.platform.maxPayload) {
          return cb(this.refuse(client, session, topic, `oversize: ${payload.length} bytes > max ${this.platform.maxPayload} on ${topic}`));
        }
        const out = session.handleUplink(topic, payload);
        counters.telemetryPoints += c.telemetryPoints - before;
        counters.telemetryMessages += c.telemetryMessages - beforeMsgs;
        counters.telemetryValues += c.telemetryValues - beforeValues;
        packet.topic = SINK_TOPIC;
        if (!out.ok) return cb(this.refuse(client, session, topic, `malformed: ${out.malformed} on ${topic}`));
        cb(null);
      },
    });
    this.aedes.on('clientDisconnect', (client) => this.endSession(client));
    this.aedes.on('clientError', () => {
      /* the connection is closed by aedes; endSession runs on clientDisconnect */
    });
    this.aedes.on('connectionError', () => {
      /* e.g. refused CONNECT: already recorded */
    });

    const handle = (stream: Duplex, req?: http.IncomingMessage) => {
      this.sockets.add(stream);
      stream.once('close', () => {
        this.sockets.delete(stream);
        const client = (stream as unknown as { client?: Client }).client;
        if (client) this.endSession(client);
      });
      const client = this.aedes.handle(stream, req);
      // The SUBACK carries the QoS requested unless the packet says otherwise, so the cap at 1
      // is applied to the SUBSCRIBE itself, before aedes reads it.
      const parser = (client as unknown as { _parser?: EventEmitter })._parser;
      parser?.prependListener('packet', capSubscribeQos);
    };

    // No Nagle delay: tests and benchmarks wait on every PUBACK and downlink.
    const tcp = net.createServer((s) => handle(s.setNoDelay(true)));
    this.servers.push(tcp);
    const port = await listen(tcp, opts.port, opts.host);
    this.url = `mqtt://${opts.host}:${port}`;

    if (opts.wsPort !== undefined) {
      const httpServer = http.createServer((_req, res) => {
        res.writeHead(426).end('MQTT over WebSocket only');
      });
      this.wss = new WebSocketServer({ server: httpServer });
      this.wss.on('connection', (ws, req) => handle(createWebSocketStream(ws), req));
      this.servers.push(httpServer);
      const wsPort = await listen(httpServer, opts.wsPort, opts.host);
      this.wsUrl = `ws://${opts.host}:${wsPort}/mqtt`;
    }

    if (opts.tls) {
      const t = opts.tls;
      const tlsServer = tls.createServer(
        { key: t.key, cert: t.cert, ca: t.ca, requestCert: t.requestCert ?? !!t.ca, rejectUnauthorized: false },
        (s) => handle(s.setNoDelay(true)),
      );
      this.servers.push(tlsServer);
      const tlsPort = await listen(tlsServer, opts.tlsPort ?? 0, opts.host);
      this.tlsUrl = `mqtts://${opts.host}:${tlsPort}`;
    }
  }

  private onAuthenticate(client: Client, username: string | undefined, password: Buffer | undefined, cb: (e: AuthError | null, ok: boolean | null) => void): void {
    const r = authenticate(this.platform.gateways, { clientId: client.id, username, password, cert: peerCertificate(client.conn) });
    if (!r.ok) {
      this.platform.store.record('', '', 'refused', undefined, { reason: r.reason, returnCode: r.returnCode, clientId: client.id });
      this.platform.log(`refused CONNECT (return code ${r.returnCode}): ${r.reason}`);
      const err = new Error(r.reason) as AuthError;
      err.returnCode = r.returnCode;
      return cb(err, false);
    }
    const name = r.gateway.name;
    const version = this.versions.get(client) ?? 4;
    const transport: SessionTransport = {
      protocolVersion: version,
      deliver: (topic, payload, force) => this.deliver(client, topic, payload, force === true),
      close: () => client.conn.destroy(),
    };
    const session = new GatewaySession(this.platform, r.gateway, transport);
    this.sessions.set(client, session);
    this.platform.sessions.add(session);
    this.platform.connectCounts.set(name, (this.platform.connectCounts.get(name) ?? 0) + 1);
    this.platform.store.record(name, '', 'gatewayConnected', undefined, { method: r.method, clientId: client.id, protocolVersion: version });
    this.platform.log(`[${name}] gateway connected (${r.method}, client id "${client.id}")`);
    cb(null, true);
  }

  private onSubscribe(client: Client, sub: Subscription, cb: (e: Error | null, s?: Subscription | null) => void): void {
    const session = this.sessions.get(client);
    const gw = session ? session.gateway.name : '';
    if (!ALLOWED_SUBSCRIPTIONS.has(sub.topic)) {
      this.platform.store.record(gw, sub.topic, 'refused', undefined, { reason: 'subscription not allowed', subscribe: sub.topic });
      this.platform.log(`[${gw}] refused SUBSCRIBE ${sub.topic}`);
      return cb(null, null);
    }
    cb(null, { ...sub, qos: sub.qos > 1 ? 1 : sub.qos });
  }

  private refuse(client: Client, session: GatewaySession, topic: string, reason: string): Error {
    const line = `${session.gateway.name}: ${reason}`;
    this.platform.closedReasons.push(line);
    this.closeReasons.set(client, reason);
    this.platform.store.record(session.gateway.name, topic, 'refused', undefined, { reason, closed: true });
    this.platform.log(`[${session.gateway.name}] closing connection: ${reason}`);
    // Deregister now: packets already parsed from the same read must not be processed.
    this.endSession(client);
    // aedes closes the connection on this error and sends no PUBACK: the MQTT 3.1.1 behaviour.
    return new Error(reason);
  }

  private deliver(client: Client, topic: string, payload: string | Buffer, force: boolean): boolean {
    if (client.closed) return false;
    const sub = (client as unknown as ClientInternals).subscriptions[filterFor(topic)];
    if (!sub && !force) return false;
    const qos = sub ? (Math.min(sub.qos, 1) as 0 | 1) : 1;
    client.publish({ cmd: 'publish', topic, payload: typeof payload === 'string' ? Buffer.from(payload) : payload, qos, retain: false, dup: false }, () => {
      /* write errors surface as a closed connection */
    });
    return true;
  }

  private endSession(client: Client): void {
    const session = this.sessions.get(client);
    if (!session) return;
    this.sessions.delete(client);
    this.platform.sessions.delete(session);
    session.closed(this.closeReasons.get(client) ?? 'connection closed');
    this.closeReasons.delete(client);
  }

  sessionsOf(name: string): GatewaySession[] {
    return this.platform.sessionsOf(name);
  }

  /** Server-side close of every connection of a gateway (network loss as the gateway sees it). */
  drop(name: string): number {
    let n = 0;
    for (const [client, session] of this.sessions) {
      if (session.gateway.name !== name) continue;
      this.closeReasons.set(client, 'dropped by the server (test)');
      this.platform.closedReasons.push(`${name}: dropped by the server (test)`);
      client.conn.destroy();
      n++;
    }
    return n;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    if (this.wss) {
      for (const ws of this.wss.clients) ws.terminate();
      await new Promise<void>((r) => this.wss!.close(() => r()));
    }
    await new Promise<void>((r) => this.aedes.close(() => r()));
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    for (const client of [...this.sessions.keys()]) this.endSession(client);
  }
}
