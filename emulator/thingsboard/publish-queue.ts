// The server's per-session message queue (MqttTransportHandler.enqueueRegularSessionMsg): a
// message waits there until the session processes it; when `maxInflightMessages`
// (transport.mqtt.msg_queue_size_per_device_limit) are already waiting, the server closes the
// connection (DISCONNECT QUOTA_EXCEEDED on MQTT 5). A fast server empties the queue at once, so a
// test makes the server slow (Platform.ackDelayMs) to see a client that does not bound what it
// sends before the PUBACKs come back.
import type * as mqttPacket from 'mqtt-packet';

export class PublishQueue {
  private readonly waiting: Array<{ p: mqttPacket.IPublishPacket; due: number }> = [];
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly delayMs: () => number,
    private readonly limit: () => number,
    private readonly process: (p: mqttPacket.IPublishPacket) => void,
    private readonly overflow: (waiting: number) => void,
  ) {}

  offer(p: mqttPacket.IPublishPacket): void {
    const delay = this.delayMs();
    if (delay <= 0 && this.waiting.length === 0) return this.process(p);
    if (this.waiting.length >= this.limit()) return this.overflow(this.waiting.length);
    this.waiting.push({ p, due: Date.now() + delay });
    this.arm();
  }

  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.waiting.length = 0;
  }

  private arm(): void {
    if (this.timer || this.waiting.length === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const now = Date.now();
      while (this.waiting.length > 0 && this.waiting[0].due <= now) this.process(this.waiting.shift()!.p);
      this.arm();
    }, Math.max(0, this.waiting[0].due - Date.now()));
  }
}
