// The MQTT front door: TCP, WebSocket and TLS listeners that hand every socket to an
// MqttConnection (mqtt-packet codec, MQTT 3.1/3.1.1 and 5 on the same port, chosen by each
// CONNECT). Replaces aedes, which speaks 3.1.1 only: the ThingsBoard transport is not a broker,
// so a codec plus the platform rules is all it takes.
import * as http from 'http';
import * as net from 'net';
import * as tls from 'tls';
import { Duplex } from 'stream';
import { WebSocketServer, createWebSocketStream } from 'ws';
import { ConnectionHost, MqttConnection, RC } from './mqtt-connection';
import { GatewaySession } from './gateway-session';
import { Platform } from './platform';
import { Counters, TlsOptions } from './types';

/** Process-wide totals across every emulator instance (benchmarks read these). */
export const counters: Counters = { publishes: 0, bytes: 0, telemetryMessages: 0, telemetryPoints: 0, telemetryValues: 0 };

export interface BrokerOptions {
  host: string;
  port: number;
  wsPort?: number;
  tlsPort?: number;
  tls?: TlsOptions;
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

export class Broker implements ConnectionHost {
  url = '';
  wsUrl?: string;
  tlsUrl?: string;
  readonly totals = counters;
  private readonly servers: net.Server[] = [];
  private readonly connections = new Set<MqttConnection>();
  private readonly byClientId = new Map<string, MqttConnection>();
  private wss?: WebSocketServer;

  private constructor(readonly platform: Platform) {}

  static async start(platform: Platform, opts: BrokerOptions): Promise<Broker> {
    const b = new Broker(platform);
    try {
      await b.init(opts);
    } catch (e) {
      await b.stop();
      throw e;
    }
    return b;
  }

  private async init(opts: BrokerOptions): Promise<void> {
    const handle = (stream: Duplex) => this.connections.add(new MqttConnection(stream, this));

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
      this.wss.on('connection', (ws) => handle(createWebSocketStream(ws)));
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
      tlsServer.on('tlsClientError', () => {
        /* a failed handshake concerns that client only */
      });
      this.servers.push(tlsServer);
      const tlsPort = await listen(tlsServer, opts.tlsPort ?? 0, opts.host);
      this.tlsUrl = `mqtts://${opts.host}:${tlsPort}`;
    }
  }

  /** MQTT: a new connection with a client id already connected takes over; the older one is closed. */
  accepted(conn: MqttConnection): void {
    const older = this.byClientId.get(conn.clientId);
    if (older && older !== conn) older.close(`session taken over by a new connection with client id "${conn.clientId}"`, RC.SESSION_TAKEN_OVER);
    this.byClientId.set(conn.clientId, conn);
  }

  gone(conn: MqttConnection): void {
    this.connections.delete(conn);
    if (this.byClientId.get(conn.clientId) === conn) this.byClientId.delete(conn.clientId);
  }

  sessionsOf(name: string): GatewaySession[] {
    return this.platform.sessionsOf(name);
  }

  /** Server-side close of every connection of a gateway (network loss as the gateway sees it). */
  drop(name: string): number {
    let n = 0;
    for (const conn of [...this.connections]) {
      if (!conn.session || !conn.session.open || conn.session.gateway.name !== name) continue;
      this.platform.closedReasons.push(`${name}: dropped by the server (test)`);
      conn.destroy('dropped by the server (test)');
      n++;
    }
    return n;
  }

  async stop(): Promise<void> {
    for (const conn of [...this.connections]) conn.destroy('emulator stopped');
    if (this.wss) {
      for (const ws of this.wss.clients) ws.terminate();
      await new Promise<void>((r) => this.wss!.close(() => r()));
    }
    await Promise.all(this.servers.filter((s) => s.listening).map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}
