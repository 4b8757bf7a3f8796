// The MQTT side of a session: one mqtt.js client at a time, opened afresh after every loss
// (mqtt.js's own reconnect is off), with exponential backoff and jitter between attempts, and
// the dialect's subscriptions made, one filter per SUBSCRIBE, before the connection counts as up.
import { EventEmitter } from "events";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import { PublishRefused, type Transport } from "../outbox/outbox";
import { Backoff, type BackoffOptions } from "./backoff";
import { describeConnectError } from "./connect-errors";
import type { SessionState } from "../records";

export interface ConnectionOptions {
  url: string;
  client: IClientOptions;
  subscriptions: readonly string[];
  qos: 0 | 1;
  reconnect: BackoffOptions;
}

export interface ConnectionEvents {
  /** Connected and subscribed: uplinks may flow over `transport`. */
  up: [Transport];
  /** The connection is gone; a new attempt is scheduled. */
  down: [];
  state: [SessionState];
  message: [string, Buffer];
  warning: [string];
}

export class Connection extends EventEmitter<ConnectionEvents> {
  private client: MqttClient | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly backoff: Backoff;
  private lastError: string | undefined;
  private closed = false;

  constructor(private readonly opts: ConnectionOptions) {
    super();
    this.backoff = new Backoff(opts.reconnect);
  }

  /** Connects with these client options from the next attempt on (new credentials: provisioning). */
  setClientOptions(options: IClientOptions): void {
    this.opts.client = { ...this.opts.client, ...options };
  }

  open(): void {
    if (this.closed) return;
    this.emit("state", { state: "connecting", reason: this.lastError });
    const client = mqtt.connect(this.opts.url, {
      ...this.opts.client,
      reconnectPeriod: 0, // reconnects are ours: backoff, and a fresh client each time
      clean: true,
      resubscribe: false,
    });
    this.client = client;
    client.on("connect", () => void this.subscribe(client));
    client.on("message", (topic, payload) => this.emit("message", topic, payload));
    client.on("error", (err) => (this.lastError = describeConnectError(err)));
    client.on("close", () => this.lost(client));
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const client = this.client;
    this.client = undefined;
    if (client) await new Promise<void>((resolve) => client.end(true, {}, () => resolve()));
  }

  private async subscribe(client: MqttClient): Promise<void> {
    for (const filter of this.opts.subscriptions) {
      try {
        const granted = await client.subscribeAsync(filter, { qos: 1 });
        if (granted.some((g) => g.qos >= 0x80)) throw new Error("refused");
      } catch {
        if (client !== this.client || !client.connected) return; // lost: the close handler takes over
        this.emit("warning", `the server refused the subscription to ${filter}: is the device flagged "Is gateway"?`);
      }
    }
    if (client !== this.client || this.closed) return;
    this.backoff.reset();
    this.lastError = undefined;
    this.emit("state", { state: "connected" });
    this.emit("up", transportOf(client, this.opts.qos));
  }

  private lost(client: MqttClient): void {
    if (client !== this.client) return;
    this.client = undefined;
    client.end(true);
    this.emit("down");
    if (this.closed) return;
    this.emit("state", { state: "disconnected", reason: this.lastError ?? "connection lost" });
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.open();
    }, this.backoff.next());
  }
}

/** A QoS 1 publish that settles on the PUBACK; a reason code ≥ 0x80 (MQTT 5) is the server's no. */
function transportOf(client: MqttClient, qos: 0 | 1): Transport {
  return {
    publish: (topic, payload) =>
      new Promise<void>((resolve, reject) =>
        client.publish(topic, payload, { qos }, (err) => {
          if (!err) return resolve();
          const code = (err as { code?: unknown }).code;
          reject(typeof code === "number" && code >= 0x80 ? new PublishRefused(err.message, code) : err);
        }),
      ),
  };
}
