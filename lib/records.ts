// The typed records that cross the engine's boundaries, at the bottom of lib/: session, dialect and
// outbox all speak them and import nothing above. A platform's JSON shapes exist only inside its dialect.

/** A telemetry or attribute value as the platforms store it. */
export type Value = string | number | boolean | null | Value[] | { [key: string]: Value };
export type Values = Record<string, Value>;

/** One time-series point; `ts` absent means "stamp it with the server's time". */
export interface TelemetryPoint {
  ts?: number;
  values: Values;
}

export type AttributeScope = "client" | "shared";

/** What the gateway sends up, on behalf of a device (or of itself). */
export type Uplink =
  /** `metadata` / `deviceInfo`: Watson's managed gateway sends them in the device's manage request. */
  | { kind: "connect"; device: string; profile?: string; metadata?: Values; deviceInfo?: Values }
  | { kind: "disconnect"; device: string }
  | { kind: "telemetry"; device: string; points: TelemetryPoint[] }
  | { kind: "attributes"; device: string; values: Values }
  | { kind: "attributeRequest"; device: string; id: number; scope: AttributeScope; keys: string[] }
  | { kind: "rpcResponse"; device: string; id: number; data: unknown }
  | { kind: "claim"; device: string; secretKey?: string; durationMs?: number }
  /** An RPC from the gateway device itself to the server (v1/devices/me/rpc/request/{id}). */
  | { kind: "gatewayRpcRequest"; id: number; method: string; params?: unknown }
  /** The gateway device's own answer to a server-side RPC addressed to it. */
  | { kind: "gatewayRpcResponse"; id: number; data: unknown }
  /** Something that happened on a device: a named occurrence with its parameters. */
  | { kind: "event"; device: string; method: string; params: unknown }
  /** Time-series values of the gateway device itself. */
  | { kind: "gatewayTelemetry"; points: TelemetryPoint[] }
  /** Client-side attributes of the gateway device itself. */
  | { kind: "gatewayAttributes"; values: Values }
  /** An event of the gateway device itself. */
  | { kind: "gatewayEvent"; method: string; params: unknown }
  /**
   * The gateway's answer to a platform message that the session handles itself once its parts
   * were routed (an attribute set): `ref` is the dialect's own reference from the downlink.
   */
  | { kind: "downlinkAnswer"; ref: string; error?: string }
  /** The gateway announcing itself after every connect (Watson's managed gateway: its own manage request). */
  | { kind: "gatewayConnect" };

export type UplinkKind = Uplink["kind"];

/** What the platform sends down. */
export type Downlink =
  | { kind: "attributeUpdate"; device: string; values: Values; deleted: string[] }
  /**
   * The answer to an attribute request. The server names the key only when several were asked
   * (`values`); for exactly one key it sends a bare `value`; when nothing was found, neither.
   */
  | { kind: "attributeResponse"; id: number; device: string; values?: Values; value?: Value }
  /** `extra`: the platform's own fields the rpc-in msg carries besides these (Watson: deviceType, format). */
  /** `unwatched`: the answer the package sends itself when no rpc-in watches the RPC (Watson's device actions: 501). */
  | { kind: "rpcRequest"; device: string; id: number; method: string; params: unknown; extra?: Record<string, string>; unwatched?: unknown }
  /** A server RPC addressed to the gateway device itself that is not one of the named notices. */
  | { kind: "gatewayRpcRequest"; id: number; method: string; params: unknown; extra?: Record<string, string>; unwatched?: unknown }
  | { kind: "gatewayRpcResponse"; id: number; data: unknown }
  | { kind: "deviceRenamed"; id: number; from: string; to: string }
  | { kind: "deviceDeleted"; id: number; device: string }
  /** MQTT 5 only: the server dropped a device from this gateway session. */
  | { kind: "deviceDisconnected"; device: string; reason: number }
  /**
   * The platform's acknowledgement of an uplink publish (beyond the PUBACK), by the key the
   * dialect's `awaitsAck` gave that publish; `failure` when the platform reports one (not `error`:
   * that names a decode failure).
   */
  | { kind: "uplinkAck"; key: string; failure?: string }
  /**
   * One platform message with several parts (a command to many devices): each part is handled
   * as if it came alone, then `answer` (when set) goes up.
   */
  | { kind: "group"; parts: Downlink[]; answer?: Uplink }
  /** The platform asks for a device's attribute values (`device` absent = the gateway itself); no keys = all. */
  | { kind: "attributeQuery"; device?: string; keys: string[] };

export type DownlinkKind = Downlink["kind"];

/** One "capacity:seconds" pair of a server's rate limit (all pairs of a limit hold at once). */
export interface RateLimit {
  capacity: number;
  seconds: number;
}

/** What one publish draws from the server's buckets, as the server counts it (the dialect knows how). */
export interface PublishCost {
  /** Traffic of the gateway device itself (its own bucket) rather than of its devices. */
  own: boolean;
  /** Device messages counted against `messages` (those that carry no data points). */
  messages: number;
  /** Device messages counted against `telemetryMessages` (those that carry data points). */
  telemetryMessages: number;
  /** Key-value pairs counted against `telemetryDataPoints`. */
  dataPoints: number;
}

/** The counters a server's limit string names. */
export type RateCounter = "messages" | "telemetryMessages" | "telemetryDataPoints";
export const RATE_COUNTERS: readonly RateCounter[] = ["messages", "telemetryMessages", "telemetryDataPoints"];

/** The largest cost of each counter one publish may carry: no bucket ever holds more. */
export type PublishCaps = Record<RateCounter, number>;

/** Connection state, as every user node shows it. */
export type SessionState =
  | { state: "connecting"; reason?: string }
  | { state: "connected" }
  | { state: "disconnected"; reason: string };
