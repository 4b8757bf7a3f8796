// One client connection to an emulated broker, coded with mqtt-packet: what the ThingsPanel and
// Watson brokers' connections share. It parses the stream, closes on a malformed packet, keeps
// the keepalive (1.5 × the client's), keeps the subscriptions with their granted QoS, answers
// PINGREQ and UNSUBSCRIBE, delivers to a matching subscription with packet ids 1…65535, and ends
// exactly once. What each broker checks (CONNECT, PUBLISH, SUBSCRIBE) is its subclass's.
import * as net from 'net';
import { Duplex } from 'stream';
import * as mqttPacket from 'mqtt-packet';

/** `filter` matches `topic` (MQTT + and #). */
export function matches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

export abstract class MqttPeer {
  clientId = '';
  protected version: 4 | 5 = 4;
  protected connected = false;
  protected ended = false;
  /** Set by the subclass once it accepted the CONNECT; 0: no keepalive. */
  protected keepaliveMs = 0;
  protected readonly subscriptions = new Map<string, 0 | 1>();
  private readonly parser = mqttPacket.parser();
  private nextId = 1;
  private keepaliveTimer?: NodeJS.Timeout;

  constructor(readonly stream: Duplex) {
    this.parser.on('packet', (p: mqttPacket.Packet) => this.onPacket(p));
    this.parser.on('error', (e: Error) => this.destroy(`malformed MQTT packet: ${e.message}`));
    stream.on('data', (chunk: Buffer) => {
      if (!this.ended) this.parser.parse(chunk);
    });
    stream.on('error', () => undefined);
    stream.on('end', () => stream.destroy());
    stream.once('close', () => this.finish('socket closed'));
  }

  /** The CONNECT: the subclass accepts it (connected = true, CONNACK, touch) or refuses it. */
  protected abstract onConnect(p: mqttPacket.IConnectPacket): void;
  /** A PUBLISH of a connected client: the subclass checks it, hands it on and sends the PUBACK (`puback`). */
  protected abstract onPublish(p: mqttPacket.IPublishPacket): void;
  protected abstract onSubscribe(p: mqttPacket.ISubscribePacket): void;
  /** The connection ended (once), with why; `wasConnected`: its CONNECT had been accepted. */
  protected abstract closed(reason: string, wasConnected: boolean): void;

  protected write(packet: mqttPacket.Packet): boolean {
    if (this.ended || this.stream.destroyed) return false;
    this.stream.write(mqttPacket.generate(packet, { protocolVersion: this.version }));
    return true;
  }

  protected puback(messageId: number | undefined): void {
    this.write(this.version === 5 ? { cmd: 'puback', messageId: messageId ?? 0, reasonCode: 0 } : { cmd: 'puback', messageId: messageId ?? 0 });
  }

  destroy(reason: string): void {
    this.stream.destroy();
    this.finish(reason);
  }

  private finish(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    if (this.keepaliveTimer) clearTimeout(this.keepaliveTimer);
    this.closed(reason, this.connected);
  }

  protected touch(): void {
    if (!this.keepaliveMs || this.ended) return;
    if (this.keepaliveTimer) clearTimeout(this.keepaliveTimer);
    this.keepaliveTimer = setTimeout(() => this.destroy('keepalive timeout'), this.keepaliveMs);
  }

  private onPacket(p: mqttPacket.Packet): void {
    if (this.ended) return;
    this.touch();
    if (p.cmd === 'connect') {
      if (this.connected) return this.destroy('second CONNECT');
      return this.onConnect(p);
    }
    if (!this.connected) return this.destroy(`${p.cmd} before CONNECT`);
    switch (p.cmd) {
      case 'publish':
        return this.onPublish(p);
      case 'subscribe':
        return this.onSubscribe(p);
      case 'unsubscribe':
        for (const t of p.unsubscriptions) this.subscriptions.delete(t);
        this.write({ cmd: 'unsuback', messageId: p.messageId, granted: p.unsubscriptions.map(() => 0) });
        return;
      case 'pingreq':
        this.write({ cmd: 'pingresp' });
        return;
      case 'puback':
        return;
      case 'disconnect':
        return this.destroy('client sent DISCONNECT');
      default:
        return this.destroy(`unexpected ${p.cmd}`);
    }
  }

  /** Publishes to this client when one of its subscriptions matches, at most at `qos`; false otherwise. */
  protected deliverPacket(topic: string, payload: Buffer, qos: 0 | 1): boolean {
    if (this.ended || !this.connected) return false;
    let granted: 0 | 1 | undefined;
    for (const [f, q] of this.subscriptions) if (matches(f, topic)) granted = granted === undefined ? q : (Math.max(granted, q) as 0 | 1);
    if (granted === undefined) return false;
    if (Math.min(granted, qos) === 0) return this.write({ cmd: 'publish', topic, payload, qos: 0, retain: false, dup: false });
    const messageId = this.nextId;
    this.nextId = this.nextId === 65535 ? 1 : this.nextId + 1;
    return this.write({ cmd: 'publish', topic, payload, qos: 1, messageId, retain: false, dup: false });
  }

  get subscribed(): string[] {
    return [...this.subscriptions.keys()];
  }
}

/** The broker's listening socket and its open connections: one peer per TCP connection. */
export class PeerListener<C extends MqttPeer> {
  readonly connections = new Set<C>();
  url = '';

  private constructor(private readonly server: net.Server) {}

  /** Listens on host:port (0: a free port); `make` builds a peer, `gone` takes it out of `connections` when it ends. */
  static async listen<C extends MqttPeer>(host: string, port: number, make: (stream: net.Socket, gone: (c: C) => void) => C): Promise<PeerListener<C>> {
    const server = net.createServer();
    const l = new PeerListener<C>(server);
    server.on('connection', (s) => {
      l.connections.add(make(s.setNoDelay(true), (gone) => l.connections.delete(gone)));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    l.url = `mqtt://${host}:${(server.address() as net.AddressInfo).port}`;
    return l;
  }

  /** Closes every connection with `reason` (a network loss, as the peer sees it); how many. */
  drop(reason: string, which: (c: C) => boolean = () => true): number {
    let n = 0;
    for (const c of [...this.connections]) {
      if (!which(c)) continue;
      c.destroy(reason);
      n++;
    }
    return n;
  }

  async close(): Promise<void> {
    this.drop('emulator stopped');
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
