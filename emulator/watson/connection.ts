// One gateway connection to the Watson IoT broker, coded with mqtt-packet. The connection-level
// rules are checked here: MQTT 3.1.1 only (a v5 CONNECT is refused with "unacceptable protocol
// version"), the client id g:{org}:{type}:{id}, username use-token-auth with the gateway's token,
// and the 131,072-byte payload limit that closes the connection. Topic rules live in platform.ts.
import { Duplex } from 'stream';
import type * as mqttPacket from 'mqtt-packet';
import { MqttPeer } from '../mqtt-peer';
import type { WatsonPlatform } from './platform';

export const MAX_PAYLOAD = 131072;

export class WatsonConnection extends MqttPeer {
  /** The gateway's own type and id, from its client id. */
  typeId = '';
  deviceId = '';

  constructor(stream: Duplex, private readonly platform: WatsonPlatform, private readonly gone: (c: WatsonConnection) => void) {
    super(stream);
  }

  get gateway(): string {
    return `${this.typeId}/${this.deviceId}`;
  }

  protected closed(reason: string, wasConnected: boolean): void {
    if (wasConnected) this.platform.disconnected(this, reason);
    this.gone(this);
  }

  protected onPublish(p: mqttPacket.IPublishPacket): void {
    const payload = Buffer.isBuffer(p.payload) ? p.payload : Buffer.from(p.payload);
    if (payload.length > MAX_PAYLOAD) {
      this.platform.violation(this, `a publish of ${payload.length} bytes on ${p.topic}: over the ${MAX_PAYLOAD}-byte limit, connection closed`);
      return this.destroy(`payload of ${payload.length} bytes over ${MAX_PAYLOAD}`);
    }
    // The platform's verdict (a notification) goes out before the PUBACK.
    this.platform.uplink(this, p.topic, payload);
    if (p.qos === 1) this.puback(p.messageId);
  }

  protected onConnect(p: mqttPacket.IConnectPacket): void {
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

  protected onSubscribe(p: mqttPacket.ISubscribePacket): void {
    const granted = p.subscriptions.map((s) => {
      if (!this.platform.subscribe(this, s.topic)) return 0x80;
      const qos = (s.qos > 1 ? 1 : s.qos) as 0 | 1;
      this.subscriptions.set(s.topic, qos);
      return qos;
    });
    this.write({ cmd: 'suback', messageId: p.messageId, granted });
  }

  /** Publishes to this client when one of its subscriptions matches, at most at `qos`; false otherwise. */
  deliver(topic: string, payload: Buffer, qos: 0 | 1 = 1): boolean {
    return this.deliverPacket(topic, payload, qos);
  }
}
