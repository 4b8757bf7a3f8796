// Public types of the ThingsBoard emulator. Tests across the product import these names,
// so they change only together with their users.

export interface GatewayBasicCredentials {
  /** when set, the CONNECT client id must match too */
  clientId?: string;
  username: string;
  password: string;
}

export interface GatewayConfig {
  /** device name of the gateway (it is a device flagged "Is gateway") */
  name: string;
  /** access token: MQTT username, empty password */
  token?: string;
  basic?: GatewayBasicCredentials;
  /** X.509: SHA-256 (or SHA-1) fingerprint of the client certificate, hex, colons optional */
  certFingerprint?: string;
  /** X.509: subject CN of a client certificate that the configured CA verified */
  cn?: string;
}

export interface TlsOptions {
  key: string | Buffer;
  cert: string | Buffer;
  /** CA for client certificates (needed for `cn` matching) */
  ca?: string | Buffer | Array<string | Buffer>;
  /** ask clients for a certificate (optional for them: token auth still works over TLS) */
  requestCert?: boolean;
}

export interface RateLimits {
  messages: string;
  telemetryMessages: string;
  telemetryDataPoints: string;
}

export interface SessionLimits {
  rateLimits: RateLimits;
  gatewayRateLimits: RateLimits;
  maxPayloadSize: number;
  maxInflightMessages: number;
}

export interface SessionLimitsPatch {
  rateLimits?: Partial<RateLimits>;
  gatewayRateLimits?: Partial<RateLimits>;
  maxPayloadSize?: number;
  maxInflightMessages?: number;
}

export interface EmulatorOptions {
  /** host to bind; default 127.0.0.1 */
  host?: string;
  /** mqtt:// port; 0 = random (default 0) */
  port?: number;
  /** ws:// port; enables WebSocket when set (0 = random) */
  wsPort?: number;
  /** mqtts:// port when tls is set; default 0 (random) */
  tlsPort?: number;
  tls?: TlsOptions;
  /** default: one gateway { name: "Gateway", token: "GATEWAY_TOKEN" } */
  gateways?: GatewayConfig[];
  /** max PUBLISH payload in bytes; larger closes the connection. Default 65536 */
  maxPayload?: number;
  sessionLimits?: SessionLimitsPatch;
  /** one line per event (connected devices, telemetry, attributes, rpc answers, refusals) */
  log?: (line: string) => void;
  /** false: count telemetry only (benchmarks); no points, no telemetry journal entries */
  recordTelemetry?: boolean;
  /** server-side RPC timeout used by rename/delete notifications; default 10000 ms */
  rpcTimeoutMs?: number;
}

export interface DeviceInfo {
  name: string;
  profile: string;
  /** gateway that last connected the device (its own name for a gateway device) */
  gateway: string;
  /** registered in a live gateway session right now */
  connected: boolean;
  isGateway: boolean;
}

export interface TelemetryPoint {
  ts: number;
  values: Record<string, unknown>;
  /** true when the element was a flat {k:v} and the server assigned the time */
  serverTs: boolean;
}

export interface ClaimRecord {
  secretKey?: string;
  durationMs?: number;
}

export type JournalKind =
  | 'connect'
  | 'disconnect'
  | 'telemetry'
  | 'attributes'
  | 'attributeRequest'
  | 'rpcReply'
  | 'claim'
  | 'gatewayRpc'
  | 'refused'
  | 'gatewayConnected'
  | 'gatewayDisconnected';

export interface JournalEntry {
  seq: number;
  gateway: string;
  topic: string;
  kind: JournalKind;
  device?: string;
  detail?: unknown;
}

export interface Counters {
  /** PUBLISH packets received from gateways (accepted or not) */
  publishes: number;
  /** payload bytes of those publishes */
  bytes: number;
  telemetryMessages: number;
  /** telemetry elements (one timestamp of one device) */
  telemetryPoints: number;
  /** key-value data points, as the server's telemetryDataPoints rate limit counts them */
  telemetryValues: number;
}
