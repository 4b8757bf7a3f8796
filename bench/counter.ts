// The subscriber that counts what really arrived: a raw mqtt.js client at QoS 1 on the
// gateway telemetry topic. A point is one {ts, values} element of a device's array.
import mqtt, { type MqttClient } from "mqtt";
import { now } from "./clock";

export const TELEMETRY_TOPIC = "v1/gateway/telemetry";

export interface Count {
  points: number;
  messages: number;
  /** When the last point so far was counted (the clock of clock.ts). */
  lastAt: number;
  malformed: number;
}

export class PointCounter {
  private count: Count = { points: 0, messages: 0, lastAt: 0, malformed: 0 };
  private target = Infinity;
  private reached: (() => void) | undefined;

  private constructor(private readonly client: MqttClient) {
    client.on("message", (_topic, payload) => this.onMessage(payload));
  }

  static async connect(url: string): Promise<PointCounter> {
    const client = await mqtt.connectAsync(url, { clientId: `bench-counter-${process.pid}`, clean: true, reconnectPeriod: 0 });
    const c = new PointCounter(client);
    await client.subscribeAsync(TELEMETRY_TOPIC, { qos: 1 });
    return c;
  }

  reset(): void {
    this.count = { points: 0, messages: 0, lastAt: 0, malformed: 0 };
    this.target = Infinity;
    this.reached = undefined;
  }

  get current(): Readonly<Count> {
    return this.count;
  }

  /** Resolves with the count once `points` arrived, or with what arrived when the time is up. */
  waitFor(points: number, timeoutMs: number): Promise<Count & { timedOut: boolean }> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.reached = undefined;
        resolve({ ...this.count, timedOut: true });
      }, timeoutMs);
      this.target = points;
      this.reached = () => {
        clearTimeout(timer);
        this.reached = undefined;
        resolve({ ...this.count, timedOut: false });
      };
      if (this.count.points >= points) this.reached();
    });
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }

  private onMessage(payload: Buffer): void {
    let body: unknown;
    try {
      body = JSON.parse(payload.toString("utf8"));
    } catch {
      this.count.malformed++;
      return;
    }
    if (typeof body !== "object" || body === null) {
      this.count.malformed++;
      return;
    }
    let n = 0;
    for (const list of Object.values(body as Record<string, unknown>)) {
      if (Array.isArray(list)) n += list.length;
      else this.count.malformed++;
    }
    this.count.messages++;
    this.count.points += n;
    this.count.lastAt = now();
    if (this.count.points >= this.target && this.reached) this.reached();
  }
}
