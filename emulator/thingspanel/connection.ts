// One client connection to the ThingsPanel broker (a gmqtt fork), MQTT 3.1.1 or 5, coded with
// mqtt-packet. The broker's rules that a gateway can break are checked here: the voucher, a
// non-empty client id, keepalive ≤ 300 s, and the ACL that looks only at the FIRST topic of a
// SUBSCRIBE (the others pass unchecked: recorded as a violation, since a client relying on it
// subscribes to what it may not).
import { Duplex } from 'stream';
import type * as mqttPacket from 'mqtt-packet';
import { MqttPeer } from '../mqtt-peer';
import type { TpPlatform } from './platform';

export const MAX_KEEPALIVE_S = 300;

export interface Session {
  deviceNumber: string;
  clientId: string;
  readonly subscribed: string[];
  deliver(topic: string, payload: string): boolean;
}

export class TpConnection extends MqttPeer implements Session {
  deviceNumber = '';

  constructor(stream: Duplex, private readonly platform: TpPlatform, private readonly gone: (c: TpConnection) => void) {
    super(stream);
  }

  protected closed(reason: string, wasConnected: boolean): void {
    if (wasConnected) this.platform.disconnected(this, reason);
    this.gone(this);
  }

  protected onPublish(p: mqttPacket.IPublishPacket): void {
    const payload = typeof p.payload === 'string' ? p.payload : p.payload.toString('utf8');
    this.platform.uplink(this, p.topic, payload);
    if (p.qos === 1) this.puback(p.messageId);
  }

  protected onConnect(p: mqttPacket.IConnectPacket): void {
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

  protected onSubscribe(p: mqttPacket.ISubscribePacket): void {
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
    return this.deliverPacket(topic, Buffer.from(payload), 1);
  }
}
