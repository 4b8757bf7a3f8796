// The engine, usable without Node-RED.
export { GatewaySession, type SessionOptions, type SendOptions, type Handover } from "./session/session";
export * from "./records";
export type { DownlinkListener, RpcCall, AttributeChange } from "./session/listeners";
export { RpcAnswerError, type RpcContext } from "./session/rpc-context";
export type { SessionLimits, RateLimit } from "./session/session-limits";
export { Provisioner, provisionOnce, ProvisionRefused, type ProvisionRequest, type ProvisionTarget, type ProvisionState } from "./session/provision";
export { Outbox, OutboxError, PublishRefused, type Transport } from "./outbox/outbox";
export type { UplinkStore, Entry, OutboxOptions, OverflowPolicy } from "./outbox/types";
export { MemoryStore } from "./outbox/store/memory";
export { dialectFor, dialects } from "./dialect";
export type { Dialect, DialectFactory, GatewayIdentity, Publish, Encoded, Credentials } from "./dialect/types";
export * as modbus from "./modbus";
