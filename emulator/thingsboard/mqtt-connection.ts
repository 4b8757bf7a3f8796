// One client connection, MQTT 3.1, 3.1.1 or 5 (whatever its CONNECT says), coded with mqtt-packet.
// It is a ThingsBoard MQTT transport, not a broker: nothing is routed between clients. CONNECT is
// vetted by auth.ts, SUBSCRIBE by the allow-list, every PUBLISH goes to the gateway session, and
// downlinks are written to this one client at the QoS of its subscription (capped at 1).
// The version decides only how refusals are said (shared/protocols/thingsboard.md, and the
// server's MqttTransportHandler / ReturnCodeResolver):
//   CONNACK    3.1.1: 4 bad username or password, 5 not authorised   5: 0x86, 0x87
//   SUBACK     refused filter                        3.1.1: 0x80     5: 0x8F topic filter invalid
//   PUBLISH    malformed payload     3.1.1: close, no PUBACK         5: PUBACK 0x99, connection kept
//                                                      (QoS 0 has no PUBACK to carry it: closed)
//              unknown topic         3.1.1: PUBACK                   5: PUBACK 0x90 topic name invalid
//              packet > max          3.1.1: close                    5: DISCONNECT 0x95, close
//                (the remaining length: topic, packet id, properties and payload, as Netty's MqttDecoder checks it)
//              rate limit exceeded   PUBACK (5: 0x97 quota exceeded), then close  (rate-limits.ts)
//              queue past maxInflightMessages               close (5: DISCONNECT 0x97)  (publish-queue.ts)
import { randomBytes } from 'crypto';
import { Duplex } from 'stream';
import * as tls from 'tls';
import * as mqttPacket from 'mqtt-packet';
import { authenticate, PeerCertificateInfo } from './auth';
import { GatewaySession, SessionTransport } from './gateway-session';
import { PublishQueue } from './publish-queue';
import { isProvisionConnect, ProvisionSession } from './provision';
import { Platform } from './platform';
import { ALLOWED_SUBSCRIPTIONS, filterFor } from './topics';
import { Counters } from './types';

/** MQTT 5 reason codes used here. */
export const RC = {
  SUCCESS: 0x00,
  NO_SUBSCRIPTION_EXISTED: 0x11,
  UNSPECIFIED: 0x80,
  MALFORMED_PACKET: 0x81,
  PROTOCOL_ERROR: 0x82,
  IMPLEMENTATION_SPECIFIC: 0x83,
  CLIENT_ID_NOT_VALID: 0x85,
  BAD_USERNAME_OR_PASSWORD: 0x86,
  NOT_AUTHORIZED: 0x87,
  KEEP_ALIVE_TIMEOUT: 0x8d,
  SESSION_TAKEN_OVER: 0x8e,
  TOPIC_FILTER_INVALID: 0x8f,
  TOPIC_NAME_INVALID: 0x90,
  TOPIC_ALIAS_INVALID: 0x94,
  PACKET_TOO_LARGE: 0x95,
  QUOTA_EXCEEDED: 0x97,
  PAYLOAD_FORMAT_INVALID: 0x99,
} as const;

/** MQTT 3.1.1 SUBACK failure. */
const SUBACK_FAILURE = 0x80;
/** A socket that sends no CONNECT within this time is closed (aedes did the same). */
const CONNECT_TIMEOUT_MS = 30000;
/** After a server-side close, the socket gets this long to flush a DISCONNECT before it is destroyed. */
const CLOSE_GRACE_MS = 500;

export interface ConnectionHost {
  readonly platform: Platform;
  /** process-wide totals (benchmarks read them) */
  readonly totals: Counters;
  /** an accepted CONNECT: the host closes any older connection with the same client id */
  accepted(conn: MqttConnection): void;
  /** the connection is gone (socket closed) */
  gone(conn: MqttConnection): void;
}

function peerCertificate(stream: Duplex): PeerCertificateInfo | undefined {
  if (!(stream instanceof tls.TLSSocket)) return undefined;
  const cert = stream.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0) return undefined;
  const cn = cert.subject?.CN;
  return {
    fingerprint256: cert.fingerprint256,
    fingerprint: cert.fingerprint,
    cn: Array.isArray(cn) ? cn[0] : cn,
    authorized: stream.authorized,
  };
}

export class MqttConnection {
  /** 3, 4 (3.1.1) or 5; known after CONNECT */
  version: 3 | 4 | 5 = 4;
  clientId = '';
  session?: GatewaySession;
  /** set on a provisioning connection (username or client id "provision"): see provision.ts */
  provision?: ProvisionSession;
  private readonly parser = mqttPacket.parser();
  private readonly subscriptions = new Map<string, 0 | 1>();
  /** our QoS 1 publishes waiting for the client's PUBACK */
  private readonly inflight = new Set<number>();
  /** the client's QoS 2 publishes waiting for PUBREL */
  private readonly qos2 = new Set<number>();
  private nextId = 1;
  private connected = false;
  private ended = false;
  private closeReason?: string;
  private clientMaxPacket = 0;
  private keepaliveMs = 0;
  private keepaliveTimer?: NodeJS.Timeout;
  private connectTimer?: NodeJS.Timeout;
  private graceTimer?: NodeJS.Timeout;
  private readonly publishes = new PublishQueue(
    () => this.host.platform.ackDelayMs,
    () => this.host.platform.limits.maxInflightMessages,
    (p) => this.ended || this.onPublish(p),
    (n) => this.close(`${n} messages waiting to be processed: maxInflightMessages is ${this.platform.limits.maxInflightMessages}`, RC.QUOTA_EXCEEDED),
  );

  constructor(readonly stream: Duplex, private readonly host: ConnectionHost) {
    this.parser.on('packet', (p: mqttPacket.Packet) => this.onPacket(p));
    this.parser.on('error', (e: Error) => this.close(`malformed MQTT packet: ${e.message}`, RC.MALFORMED_PACKET, false));
    stream.on('data', (chunk: Buffer) => {
      if (!this.ended) this.parser.parse(chunk);
    });
    stream.on('error', () => {
      /* a reset socket: 'close' follows */
    });
    stream.on('end', () => stream.destroy());
    stream.once('close', () => this.finish());
    this.connectTimer = setTimeout(() => this.close('no CONNECT within 30 s', undefined, false), CONNECT_TIMEOUT_MS);
  }

  private get platform(): Platform {
    return this.host.platform;
  }

  // ---- writing ---------------------------------------------------------------------------

  private write(packet: mqttPacket.Packet): boolean {
    if (this.ended || this.stream.destroyed) return false;
    let buf: Buffer;
    try {
      buf = mqttPacket.generate(packet, { protocolVersion: this.version });
    } catch (e) {
      this.platform.log(`cannot encode ${packet.cmd}: ${(e as Error).message}`);
      return false;
    }
    if (this.clientMaxPacket && buf.length > this.clientMaxPacket) {
      // MQTT 5: a packet larger than the client's Maximum Packet Size is never sent.
      this.platform.log(`[${this.name}] ${packet.cmd} of ${buf.length} bytes not sent: client's maximum packet size is ${this.clientMaxPacket}`);
      return false;
    }
    this.stream.write(buf);
    return true;
  }

  private get name(): string {
    return this.session ? this.session.gateway.name : `client "${this.clientId}"`;
  }

  /**
   * Server-side close. MQTT 5 clients first get DISCONNECT with `reasonCode` (when given and the
   * CONNECT was accepted). `recorded` = false adds the reason to the platform's closedReasons.
   */
  close(reason: string, reasonCode?: number, recorded = false): void {
    if (this.ended) return;
    if (!recorded && this.session) this.platform.closedReasons.push(`${this.session.gateway.name}: ${reason}`);
    this.closeReason = reason;
    if (this.version === 5 && this.connected && reasonCode !== undefined) {
      this.write({ cmd: 'disconnect', reasonCode });
    }
    // Deregister now: packets already parsed from the same read must not be processed.
    this.ended = true;
    this.endSession();
    this.stopTimers();
    this.stream.end();
    this.graceTimer = setTimeout(() => this.stream.destroy(), CLOSE_GRACE_MS);
  }

  /** Immediate close, as a network loss (no DISCONNECT). */
  destroy(reason: string): void {
    if (!this.ended) this.closeReason = reason;
    this.ended = true;
    this.stream.destroy();
    this.finish();
  }

  private finish(): void {
    this.ended = true;
    this.stopTimers();
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
    this.endSession();
    this.host.gone(this);
  }

  private stopTimers(): void {
    if (this.keepaliveTimer) clearTimeout(this.keepaliveTimer);
    if (this.connectTimer) clearTimeout(this.connectTimer);
    this.keepaliveTimer = this.connectTimer = undefined;
    this.publishes.clear();
    this.provision?.end();
  }

  private endSession(): void {
    const s = this.session;
    if (!s || !s.open) return;
    this.platform.sessions.delete(s);
    s.closed(this.closeReason ?? 'connection closed');
  }

  private touch(): void {
    if (!this.keepaliveMs || this.ended) return;
    if (this.keepaliveTimer) clearTimeout(this.keepaliveTimer);
    this.keepaliveTimer = setTimeout(() => this.close(`keepalive timeout (${this.keepaliveMs / 1500} s keepalive, nothing for ${this.keepaliveMs} ms)`, RC.KEEP_ALIVE_TIMEOUT), this.keepaliveMs);
  }

  // ---- reading ---------------------------------------------------------------------------

  private onPacket(p: mqttPacket.Packet): void {
    if (this.ended) return;
    this.touch();
    if (p.cmd === 'connect') return this.onConnect(p);
    if (!this.connected) return this.close(`${p.cmd} before CONNECT`, undefined, true);
    switch (p.cmd) {
      case 'publish':
        return this.received(p);
      case 'puback':
        this.inflight.delete(p.messageId ?? -1);
        return;
      case 'pubrel':
        this.qos2.delete(p.messageId ?? -1);
        this.write({ cmd: 'pubcomp', messageId: p.messageId ?? 0 });
        return;
      case 'pubrec':
      case 'pubcomp':
        return; // we never publish at QoS 2
      case 'subscribe':
        return this.onSubscribe(p);
      case 'unsubscribe':
        return this.onUnsubscribe(p);
      case 'pingreq':
        this.write({ cmd: 'pingresp' });
        return;
      case 'disconnect':
        // The client said goodbye: a normal close, not a server refusal.
        this.closeReason = `client sent DISCONNECT${p.reasonCode ? ` (reason 0x${p.reasonCode.toString(16)})` : ''}`;
        this.ended = true;
        this.endSession();
        this.stream.end();
        this.graceTimer = setTimeout(() => this.stream.destroy(), CLOSE_GRACE_MS);
        return;
      default:
        return this.close(`unexpected ${p.cmd} packet`, RC.PROTOCOL_ERROR);
    }
  }

  private onConnect(p: mqttPacket.IConnectPacket): void {
    if (this.connected) return this.close('second CONNECT on one connection', RC.PROTOCOL_ERROR);
    if (this.connectTimer) clearTimeout(this.connectTimer);
    this.connectTimer = undefined;
    this.version = (p.protocolVersion ?? 4) as 3 | 4 | 5;
    const v5 = this.version === 5;
    this.clientId = p.clientId ?? '';
    let assigned: string | undefined;
    if (this.clientId === '') {
      if (!p.clean) return this.refuseConnect(2, RC.CLIENT_ID_NOT_VALID, 'empty client id without clean session');
      assigned = this.clientId = `tb-emu-${randomBytes(6).toString('hex')}`;
    }
    if (isProvisionConnect(p.username, this.clientId)) return this.acceptProvision(assigned, p.keepalive ?? 0);
    const r = authenticate(this.platform.gateways, { clientId: this.clientId, username: p.username, password: p.password, cert: peerCertificate(this.stream) });
    if (!r.ok) {
      const reasonCode = r.returnCode === 4 ? RC.BAD_USERNAME_OR_PASSWORD : RC.NOT_AUTHORIZED;
      return this.refuseConnect(r.returnCode, reasonCode, r.reason);
    }
    this.clientMaxPacket = (v5 && p.properties?.maximumPacketSize) || 0;
    this.host.accepted(this);

    const name = r.gateway.name;
    const transport: SessionTransport = {
      protocolVersion: this.version,
      deliver: (topic, payload, force) => this.deliver(topic, payload, force === true),
      close: () => this.destroy('closed by the session'),
    };
    const session = new GatewaySession(this.platform, r.gateway, transport);
    this.session = session;
    this.platform.sessions.add(session);
    this.platform.connectCounts.set(name, (this.platform.connectCounts.get(name) ?? 0) + 1);
    this.platform.store.record(name, '', 'gatewayConnected', undefined, { method: r.method, clientId: this.clientId, protocolVersion: this.version });
    this.platform.log(`[${name}] gateway connected (${r.method}, client id "${this.clientId}", MQTT ${v5 ? '5' : '3.1.1'})`);

    this.connected = true;
    // No session state is ever kept (sub-devices, subscriptions): every connection starts clean.
    const connack: mqttPacket.IConnackPacket = v5
      ? { cmd: 'connack', sessionPresent: false, reasonCode: RC.SUCCESS, properties: assigned ? { assignedClientIdentifier: assigned } : undefined }
      : { cmd: 'connack', sessionPresent: false, returnCode: 0 };
    this.write(connack);
    this.keepaliveMs = (p.keepalive ?? 0) * 1500;
    this.touch();
  }

  private acceptProvision(assigned: string | undefined, keepaliveS: number): void {
    this.host.accepted(this);
    this.provision = new ProvisionSession(this.platform, {
      deliver: (topic, payload) => void this.deliver(topic, payload, true),
      close: (reason) => this.close(reason, RC.UNSPECIFIED, true),
    });
    this.connected = true;
    this.write(this.version === 5 ? { cmd: 'connack', sessionPresent: false, reasonCode: RC.SUCCESS, properties: assigned ? { assignedClientIdentifier: assigned } : undefined } : { cmd: 'connack', sessionPresent: false, returnCode: 0 });
    this.platform.log(`provisioning connection (client id "${this.clientId}")`);
    this.keepaliveMs = keepaliveS * 1500;
    this.touch();
  }

  private refuseConnect(returnCode: number, reasonCode: number, reason: string): void {
    const v5 = this.version === 5;
    const detail: Record<string, unknown> = { reason, returnCode, clientId: this.clientId, protocolVersion: this.version };
    if (v5) detail.reasonCode = reasonCode;
    this.platform.store.record('', '', 'refused', undefined, detail);
    this.platform.log(`refused CONNECT (${v5 ? `reason code 0x${reasonCode.toString(16)}` : `return code ${returnCode}`}): ${reason}`);
    this.write(v5 ? { cmd: 'connack', sessionPresent: false, reasonCode } : { cmd: 'connack', sessionPresent: false, returnCode });
    this.close(`CONNECT refused: ${reason}`, undefined, true);
  }

  private onSubscribe(p: mqttPacket.ISubscribePacket): void {
    const gw = this.session ? this.session.gateway.name : '';
    const granted = p.subscriptions.map((s) => {
      if (this.provision ? !this.provision.allows(s.topic) : !ALLOWED_SUBSCRIPTIONS.has(s.topic)) {
        this.platform.store.record(gw, s.topic, 'refused', undefined, { reason: 'subscription not allowed', subscribe: s.topic });
        this.platform.log(`[${gw}] refused SUBSCRIBE ${s.topic}`);
        return this.version === 5 ? RC.TOPIC_FILTER_INVALID : SUBACK_FAILURE;
      }
      const qos = (s.qos > 1 ? 1 : s.qos) as 0 | 1;
      this.subscriptions.set(s.topic, qos);
      return qos;
    });
    this.write({ cmd: 'suback', messageId: p.messageId, granted });
  }

  private onUnsubscribe(p: mqttPacket.IUnsubscribePacket): void {
    const codes = p.unsubscriptions.map((t) => (this.subscriptions.delete(t) ? RC.SUCCESS : RC.NO_SUBSCRIPTION_EXISTED));
    // 3.1.1 UNSUBACK has no reason codes: the encoder ignores them below version 5.
    this.write({ cmd: 'unsuback', messageId: p.messageId, granted: codes });
  }

  /** PUBACK (QoS 1) or PUBREC (QoS 2); MQTT 5 carries the reason code. */
  private ack(p: mqttPacket.IPublishPacket, reasonCode: number): void {
    const messageId = p.messageId ?? 0;
    const v5 = this.version === 5;
    if (p.qos === 1) this.write(v5 ? { cmd: 'puback', messageId, reasonCode } : { cmd: 'puback', messageId });
    else if (p.qos === 2) {
      if (reasonCode < 0x80) this.qos2.add(messageId);
      this.write(v5 ? { cmd: 'pubrec', messageId, reasonCode } : { cmd: 'pubrec', messageId });
    }
  }

  /** The decoder's check (remaining length against the max), then the session's queue. */
  private received(p: mqttPacket.IPublishPacket): void {
    const max = this.platform.maxPayload;
    const length = p.length ?? 0;
    if (length > this.platform.largestPublish) this.platform.largestPublish = length;
    if (length > max) return this.refuse(p.topic, `oversize: a ${length}-byte packet (remaining length) > max ${max} on ${p.topic}`, RC.PACKET_TOO_LARGE);
    this.publishes.offer(p);
  }

  private onPublish(p: mqttPacket.IPublishPacket): void {
    if (this.provision) {
      if (this.provision.publish(p.topic, typeof p.payload === 'string' ? Buffer.from(p.payload) : p.payload)) this.ack(p, RC.SUCCESS);
      return;
    }
    const session = this.session;
    if (!session || !session.open) return this.close('publish outside a gateway session', RC.PROTOCOL_ERROR);
    const v5 = this.version === 5;
    if (v5 && p.properties?.topicAlias !== undefined) {
      // CONNACK grants no Topic Alias Maximum, so any alias is a protocol error.
      return this.close('topic alias used but none was granted', RC.TOPIC_ALIAS_INVALID);
    }
    if (p.qos === 2 && this.qos2.has(p.messageId ?? -1)) {
      // A QoS 2 resend before PUBREL: acknowledged again, processed once.
      this.write(v5 ? { cmd: 'pubrec', messageId: p.messageId ?? 0, reasonCode: RC.SUCCESS } : { cmd: 'pubrec', messageId: p.messageId ?? 0 });
      return;
    }
    const payload: Buffer = typeof p.payload === 'string' ? Buffer.from(p.payload) : p.payload;
    const topic = p.topic;
    const totals = this.host.totals;
    const c = this.platform.store.counters;
    totals.publishes++;
    totals.bytes += payload.length;
    c.publishes++;
    c.bytes += payload.length;
    const refusal = v5 && p.qos > 0 ? this.platform.takeRefusal(topic) : undefined;
    if (refusal) {
      // A test's stand-in for a server-side refusal such as a rate limit (QUOTA_EXCEEDED, then close).
      this.platform.store.record(session.gateway.name, topic, 'refused', undefined, { reason: `refused by test with 0x${refusal.reasonCode.toString(16)}` });
      this.platform.log(`[${session.gateway.name}] PUBACK 0x${refusal.reasonCode.toString(16)} for ${topic}${refusal.close ? ', then close' : ''}`);
      this.ack(p, refusal.reasonCode);
      if (refusal.close) this.close(`refused by test: 0x${refusal.reasonCode.toString(16)} on ${topic}`, refusal.reasonCode, true);
      return;
    }
    const before = c.telemetryPoints;
    const beforeMsgs = c.telemetryMessages;
    const beforeValues = c.telemetryValues;
    const out = session.handleUplink(topic, payload);
    totals.telemetryPoints += c.telemetryPoints - before;
    totals.telemetryMessages += c.telemetryMessages - beforeMsgs;
    totals.telemetryValues += c.telemetryValues - beforeValues;
    if (!out.ok && 'quota' in out) {
      // AbstractGatewaySessionHandler: PUBACK QUOTA_EXCEEDED (3.1.1: a plain PUBACK), then close.
      this.ack(p, RC.QUOTA_EXCEEDED);
      this.platform.closedReasons.push(`${session.gateway.name}: rate limit: ${out.quota}`);
      return this.close(`rate limit: ${out.quota}`, undefined, true);
    }
    if (!out.ok) {
      if (v5 && p.qos > 0) {
        this.platform.log(`[${session.gateway.name}] PUBACK 0x99 (payload format invalid) for ${topic}; connection kept`);
        return this.ack(p, RC.PAYLOAD_FORMAT_INVALID);
      }
      return this.refuse(topic, `malformed: ${out.malformed} on ${topic}`, RC.PAYLOAD_FORMAT_INVALID);
    }
    this.ack(p, v5 && out.unknownTopic ? RC.TOPIC_NAME_INVALID : RC.SUCCESS);
  }

  /** A publish that costs the connection: journaled, recorded in closedReasons, no PUBACK. */
  private refuse(topic: string, reason: string, reasonCode: number): void {
    const gw = this.session ? this.session.gateway.name : '';
    this.platform.closedReasons.push(`${gw}: ${reason}`);
    this.platform.store.record(gw, topic, 'refused', undefined, { reason, closed: true });
    this.platform.log(`[${gw}] closing connection: ${reason}`);
    this.close(reason, reasonCode, true);
  }

  // ---- downlinks -------------------------------------------------------------------------

  private allocateId(): number {
    for (let i = 0; i < 65535; i++) {
      const id = this.nextId;
      this.nextId = this.nextId === 65535 ? 1 : this.nextId + 1;
      if (!this.inflight.has(id)) return id;
    }
    return 0;
  }

  /** Publishes to this client when it subscribed to the matching filter (or `force`); false otherwise. */
  deliver(topic: string, payload: string | Buffer, force: boolean): boolean {
    if (this.ended || !this.connected) return false;
    const sub = this.subscriptions.get(filterFor(topic));
    if (sub === undefined && !force) return false;
    const qos: 0 | 1 = sub ?? 1;
    const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
    if (qos === 0) return this.write({ cmd: 'publish', topic, payload: body, qos: 0, retain: false, dup: false });
    const messageId = this.allocateId();
    if (messageId === 0) {
      this.platform.log(`[${this.name}] ${topic} not sent: 65535 publishes wait for PUBACK`);
      return false;
    }
    if (!this.write({ cmd: 'publish', topic, payload: body, qos: 1, messageId, retain: false, dup: false })) return false;
    this.inflight.add(messageId);
    return true;
  }

  /** Our QoS 1 publishes the client has not acknowledged yet. */
  get unacknowledged(): number {
    return this.inflight.size;
  }
}
