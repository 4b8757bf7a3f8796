// One client connection to the ThingsPanel broker (a gmqtt fork), MQTT 3.1.1 or 5, coded with
// mqtt-packet. The broker's rules that a gateway can break are checked here: the voucher, a
// non-empty client id, keepalive ≤ 300 s, and the ACL that looks only at the FIRST topic of a
// SUBSCRIBE (the others pass unchecked: recorded as a violation, since a client relying on it
// subscribes to what it may not).
import { Duplex } from 'stream';
import * as mqttPacket from 'mqtt-packet';
import type { TpPlatform } from './platform';

export const MAX_KEEPALIVE_S = 300;

export interface Session {
  deviceNumber: string;
  clientId: string;
  readonly subscribed: string[];
  deliver(topic: string, payload: string): boolean;
}

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

export class TpConnection implements Session {
  version: 4 | 5 = 4;
  clientId = '';
  deviceNumber = '';
  private readonly parser = mqttPacket.parser();
  private readonly subscriptions = new Map<string, 0 | 1>();
  private connected = false;
  private ended = false;
  private nextId = 1;
  private keepaliveTimer?: NodeJS.Timeout;
  private keepaliveMs = 0;

  constructor(readonly stream: Duplex, private readonly platform: TpPlatform, private readonly gone: (c: TpConnection) => void) {
    this.parser.on('packet', (p: mqttPacket.Packet) => this.onPacket(p));
    this.parser.on('error', (e: Error) => this.destroy(`malformed MQTT packet: ${e.message}`));
    stream.on('data', (chunk: Buffer) => {
      if (!this.ended) this.parser.parse(chunk);
    });
    stream.on('error', () => undefined);
    stream.on('end', () => stream.destroy());
    stream.once('close', () => this.finish('socket closed'));
  }

  private write(packet: mqttPacket.Packet): boolean {
    if (this.ended || this.stream.destroyed) return false;
    this.stream.write(mqttPacket.generate(packet, { protocolVersion: this.version }));
    return true;
  }

  destroy(reason: string): void {
    this.stream.destroy();
    this.finish(reason);
  }

  private finish(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    if (this.keepaliveTimer) clearTimeout(this.keepaliveTimer);
    if (this.connected) this.platform.disconnected(this, reason);
    this.gone(this);
  }

  private touch(): void {
    if (!this.keepaliveMs || this.ended) return;
    if (this.keepaliveTimer) clearTimeout(this.keepaliveTimer);
    this.keepaliveTimer = setTimeout(() => this.destroy('keepalive timeout'), this.keepaliveMs);
  }

  private onPacket(p: mqttPacket.Packet): void {
    if (this.ended) return;
    this.touch();
    if (p.cmd === 'connect') return this.onConnect(p);
    if (!this.connected) return this.destroy(`${p.cmd} before CONNECT`);
    switch (p.cmd) {
      case 'publish': {
        const payload = typeof p.payload === 'string' ? p.payload : p.payload.toString('utf8');
        this.platform.uplink(this, p.topic, payload);
        if (p.qos === 1) this.write(this.version === 5 ? { cmd: 'puback', messageId: p.messageId ?? 0, reasonCode: 0 } : { cmd: 'puback', messageId: p.messageId ?? 0 });
        return;
      }
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

  private onConnect(p: mqttPacket.IConnectPacket): void {
    if (this.connected) return this.destroy('second CONNECT');
    this.version = p.protocolVersion === 5 ? 5 : 4;
    this.clientId = p.clientId ?? '';
    const refuse = (rc3: number, rc5: number, reason: string): void => {
      this.platform.refused(reason);
      this.write(this.version === 5 ? { cmd: 'connack', sessionPresent: false, reasonCode: rc5 } : { cmd: 'connack', sessionPresent: false, returnCode: rc3 });
      this.destroy(`CONNECT refused: ${reason}`);
    };
    if (this.clientId === '') return refuse(2, 0x85, 'empty client id');
    const password = p.password === undefined ? '' : p.password.toString();
    const gw = this.platform.authenticate(p.username ?? '', password);
    if (typeof gw === 'string') return refuse(4, 0x86, gw);
    this.deviceNumber = gw.deviceNumber;
    let keepalive = p.keepalive ?? 0;
    if (keepalive === 0 || keepalive > MAX_KEEPALIVE_S) {
      // gmqtt's max_keepalive: the server's keepalive replaces the client's.
      this.platform.violation(gw.deviceNumber, `keepalive ${keepalive} s: the broker allows at most ${MAX_KEEPALIVE_S} s`);
      keepalive = MAX_KEEPALIVE_S;
    }
    this.keepaliveMs = keepalive * 1500;
    this.connected = true;
    this.platform.connected(this);
    this.write(this.version === 5 ? { cmd: 'connack', sessionPresent: false, reasonCode: 0 } : { cmd: 'connack', sessionPresent: false, returnCode: 0 });
    this.touch();
  }

  private onSubscribe(p: mqttPacket.ISubscribePacket): void {
    if (p.subscriptions.length > 1) {
      this.platform.violation(this.deviceNumber, `SUBSCRIBE with ${p.subscriptions.length} topics: the broker's ACL checks only the first (${p.subscriptions[0].topic})`);
    }
    const firstAllowed = this.platform.maySubscribe(this.deviceNumber, p.subscriptions[0].topic);
    const granted = p.subscriptions.map((s, i) => {
      if (i === 0 && !firstAllowed) {
        this.platform.log(`[${this.deviceNumber}] refused SUBSCRIBE ${s.topic}`);
        return 0x80;
      }
      const qos = (s.qos > 1 ? 1 : s.qos) as 0 | 1;
      this.subscriptions.set(s.topic, qos);
      this.platform.log(`[${this.deviceNumber}] subscribed ${s.topic}`);
      return qos;
    });
    this.write({ cmd: 'suback', messageId: p.messageId, granted });
  }

  /** Publishes to this client when one of its subscriptions matches; false otherwise. */
  deliver(topic: string, payload: string): boolean {
    if (this.ended || !this.connected) return false;
    let qos: 0 | 1 | undefined;
    for (const [f, q] of this.subscriptions) if (matches(f, topic)) qos = qos === undefined ? q : (Math.max(qos, q) as 0 | 1);
    if (qos === undefined) return false;
    const body = Buffer.from(payload);
    if (qos === 0) return this.write({ cmd: 'publish', topic, payload: body, qos: 0, retain: false, dup: false });
    const messageId = this.nextId;
    this.nextId = this.nextId === 65535 ? 1 : this.nextId + 1;
    return this.write({ cmd: 'publish', topic, payload: body, qos: 1, messageId, retain: false, dup: false });
  }

  get subscribed(): string[] {
    return [...this.subscriptions.keys()];
  }
}
