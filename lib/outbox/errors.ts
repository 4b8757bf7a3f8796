// What the outbox tells its senders when an uplink does not reach the server, and what it needs
// of a connection.
export type OutboxErrorCode = "invalid" | "full" | "refused" | "closed";

export class OutboxError extends Error {
  constructor(message: string, readonly code: OutboxErrorCode) {
    super(message);
    this.name = "OutboxError";
  }
}

/** A publish the server answered with a failure reason (MQTT 5 PUBACK ≥ 0x80). */
export class PublishRefused extends Error {
  constructor(message: string, readonly reasonCode: number) {
    super(message);
    this.name = "PublishRefused";
  }
}

/** What the outbox needs of a connection: a QoS 1 publish that settles on the PUBACK. */
export interface Transport {
  publish(topic: string, payload: Buffer): Promise<void>;
}
