// One gateway connection to the Watson IoT broker, coded with mqtt-packet. The connection-level
// rules are checked here: MQTT 3.1.1 only (a v5 CONNECT is refused with "unacceptable protocol
// version"), the client id g:{org}:{type}:{id}, username use-token-auth with the gateway's token,
// and the 131,072-byte payload limit that closes the connection. Topic rules live in platform.ts.
import { Duplex } from 'stream';
import * as mqttPacket from 'mqtt-packet';
import type { WatsonPlatform } from './platform';

export const MAX_PAYLOAD = 131072;

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

export class WatsonConnection {
  clientId = '';
  /** The gateway's own type and id, from its client id. */
  typeId = '';
  deviceId = '';
  private readonly parser = mqttPacket.parser();
  private readonly subscriptions = new Map<string, 0 | 1>();
  private connected = false;
  private ended = false;
  private nextId = 1;
  private keepaliveTimer?: NodeJS.Timeout;
  private keepaliveMs = 0;

  constructor(readonly stream: Duplex, private readonly platform: WatsonPlatform, private readonly gone: (c: WatsonConnection) => void) {
    this.parser.on('packet', (p: mqttPacket.Packet) => this.onPacket(p));
    this.parser.on('error', (e: Error) => this.destroy(`malformed MQTT packet: ${e.message}`));
    stream.on('data', (chunk: Buffer) => {
      if (!this.ended) this.parser.parse(chunk);
    });
    stream.on('error', () => undefined);
    stream.on('end', () => stream.destroy());
    stream.once('close', () => this.finish('socket closed'));
  }

  get gateway(): string {
    return `${this.typeId}/${this.deviceId}`;
  }

  write(packet: mqttPacket.Packet): boolean {
    if (this.ended || this.stream.destroyed) return false;
    this.stream.write(mqttPacket.generate(packet, { protocolVersion: 4 }));
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
        const payload = Buffer.isBuffer(p.payload) ? p.payload : Buffer.from(p.payload);
        if (payload.length > MAX_PAYLOAD) {
          this.platform.violation(this, `a publish of ${payload.length} bytes on ${p.topic}: over the ${MAX_PAYLOAD}-byte limit, connection closed`);
          return this.destroy(`payload of ${payload.length} bytes over ${MAX_PAYLOAD}`);
        }
        // The platform's verdict (a notification) goes out before the PUBACK.
        this.platform.uplink(this, p.topic, payload);
        if (p.qos === 1) this.write({ cmd: 'puback', messageId: p.messageId ?? 0 });
        return;
      }
      case 'subscribe':
        return this.onSubscribe(p);
      case 'unsubscribe':
        for (const t of p.unsubscriptions) this.subscriptions.delete(t);
        this.write({ cmd: 'unsuback', messageId: p.messageId, granted: [] });
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
    const refuse = (rc: number, reason: string): void => {
      this.platform.refused(reason);
      this.write({ cmd: 'connack', sessionPresent: false, returnCode: rc });
      this.destroy(`CONNECT refused: ${reason}`);
    };
    if (p.protocolVersion !== 4) return refuse(1, `MQTT protocol version ${p.protocolVersion}: the platform speaks MQTT 3.1.1 only`);
    this.clientId = p.clientId ?? '';
    const password = p.password === undefined ? '' : p.password.toString();
    const verdict = this.platform.authenticate(this.clientId, p.username ?? '', password);
    if (typeof verdict === 'object' && 'rc' in verdict) return refuse(verdict.rc, verdict.reason);
    this.typeId = verdict.typeId;
    this.deviceId = verdict.deviceId;
    this.keepaliveMs = (p.keepalive ?? 0) * 1500;
    this.connected = true;
    this.write({ cmd: 'connack', sessionPresent: false, returnCode: 0 });
    this.platform.connected(this);
    this.touch();
  }

  private onSubscribe(p: mqttPacket.ISubscribePacket): void {
    const granted = p.subscriptions.map((s) => {
      if (!this.platform.subscribe(this, s.topic)) return 0x80;
      const qos = (s.qos > 1 ? 1 : s.qos) as 0 | 1;
      this.subscriptions.set(s.topic, qos);
      return qos;
    });
    this.write({ cmd: 'suback', messageId: p.messageId, granted });
  }

  /** Publishes to this client when one of its subscriptions matches; false otherwise. */
  deliver(topic: string, payload: Buffer, qos: 0 | 1 = 1): boolean {
    if (this.ended || !this.connected) return false;
    let granted: 0 | 1 | undefined;
    for (const [f, q] of this.subscriptions) if (matches(f, topic)) granted = granted === undefined ? q : (Math.max(granted, q) as 0 | 1);
    if (granted === undefined) return false;
    const q = Math.min(granted, qos) as 0 | 1;
    if (q === 0) return this.write({ cmd: 'publish', topic, payload, qos: 0, retain: false, dup: false });
    const messageId = this.nextId;
    this.nextId = this.nextId === 65535 ? 1 : this.nextId + 1;
    return this.write({ cmd: 'publish', topic, payload, qos: 1, messageId, retain: false, dup: false });
  }

  get subscribed(): string[] {
    return [...this.subscriptions.keys()];
  }
}
