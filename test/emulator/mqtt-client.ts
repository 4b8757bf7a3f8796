// Raw mqtt.js helpers for the emulator tests: a gateway is just an MQTT client here.
import * as mqtt from 'mqtt';

export type Client = mqtt.MqttClient;

export interface Received {
  topic: string;
  json: unknown;
  qos: number;
}

/** Connects without auto-reconnect; rejects with the CONNACK error (err.code = return code). */
export function connect(url: string, opts: mqtt.IClientOptions = {}): Promise<Client> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, protocolVersion: 4, ...opts });
    const onError = (e: Error) => {
      c.end(true);
      reject(e);
    };
    c.once('error', onError);
    c.once('connect', () => {
      c.off('error', onError);
      c.on('error', () => {
        /* closed connections surface through 'close' in the tests */
      });
      resolve(c);
    });
  });
}

export function gateway(url: string, token = 'GATEWAY_TOKEN', opts: mqtt.IClientOptions = {}): Promise<Client> {
  return connect(url, { username: token, ...opts });
}

/** Resolves on PUBACK (QoS 1). */
export function publish(c: Client, topic: string, payload: unknown, qos: 0 | 1 = 1): Promise<void> {
  const body = typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload);
  return new Promise((resolve, reject) => c.publish(topic, body, { qos }, (err) => (err ? reject(err) : resolve())));
}

/** The granted QoS list of the SUBACK (128 = refused; mqtt.js reports that as an error carrying the packet). */
export async function subscribe(c: Client, topics: string | string[], qos: 0 | 1 | 2 = 1): Promise<number[]> {
  try {
    const granted = await c.subscribeAsync(topics, { qos });
    return granted.map((g) => g.qos);
  } catch (e) {
    const packet = (e as { packet?: { granted?: Array<number | { qos: number }> } }).packet;
    if (!packet || !packet.granted) throw e;
    return packet.granted.map((g) => (typeof g === 'number' ? g : g.qos));
  }
}

/** Collects every message; `next(topic)` waits for the next one on that topic. */
export class Inbox {
  readonly all: Received[] = [];
  private waiters: Array<{ topic: string; resolve: (r: Received) => void }> = [];

  constructor(c: Client) {
    c.on('message', (topic, payload, packet) => {
      let json: unknown;
      try {
        json = JSON.parse(payload.toString());
      } catch {
        json = payload.toString();
      }
      const r: Received = { topic, json, qos: packet.qos };
      const i = this.waiters.findIndex((w) => w.topic === topic);
      if (i >= 0) this.waiters.splice(i, 1)[0].resolve(r);
      else this.all.push(r);
    });
  }

  next(topic: string, timeoutMs = 3000): Promise<Received> {
    const i = this.all.findIndex((r) => r.topic === topic);
    if (i >= 0) return Promise.resolve(this.all.splice(i, 1)[0]);
    return new Promise((resolve, reject) => {
      const w = {
        topic,
        resolve: (r: Received) => {
          clearTimeout(timer);
          resolve(r);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`no message on ${topic} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /** Resolves true if nothing arrives on `topic` within `ms` (used for "no response" rules). */
  async silent(topic: string, ms: number): Promise<boolean> {
    try {
      await this.next(topic, ms);
      return false;
    } catch {
      return true;
    }
  }
}

/** Resolves when the server closed the connection. */
export function closed(c: Client, timeoutMs = 3000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('connection was not closed by the server')), timeoutMs);
    c.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export function end(...clients: Array<Client | undefined>): Promise<void> {
  return Promise.all(clients.map((c) => (c ? c.endAsync(true) : undefined))).then(() => undefined);
}
