// The engine, usable without Node-RED.
export { GatewaySession, type SessionOptions, type SendOptions } from "./session/session";
export * from "./session/types";
export { Outbox, OutboxError, PublishRefused } from "./outbox/outbox";
export { MemoryStore } from "./outbox/store/memory";
export { dialectFor, dialects } from "./dialect";
