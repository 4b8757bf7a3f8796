import type { Downlink, PublishCaps, PublishCost, Uplink } from "../records";

/** One MQTT publish that the outbox hands to the session. */
export interface Publish {
  topic: string;
  payload: Buffer;
  /**
   * Indices (into the batch given to `encode`) of the uplinks this publish carries. An uplink
   * split over several publishes is delivered when every one of them is acknowledged.
   */
  carries: number[];
  /** What the server charges for it against its rate limits. */
  cost: PublishCost;
}

/**
 * An uplink serialised once, when it is accepted: what was validated is exactly what is sent, and
 * a value that cannot be serialised fails its own msg at its own node, never a whole batch.
 */
export interface Prepared {
  /** Serialised pieces: telemetry points, attribute members (`"key":value`), or one whole body. */
  json: string[];
  /** UTF-8 bytes of each piece. */
  bytes: number[];
  /** Per piece, the attribute key it sets (a later value of the key replaces an earlier one). */
  fields?: string[];
  /** Per piece, the data points the server counts in it. */
  points?: number[];
  /** All the data points of the uplink, where the dialect counted them (the sum of `points`). */
  total?: number;
}

/** What bounds each publish besides its packet size: the most one publish may draw of each rate counter. */
export interface EncodeExtras {
  /** Serialised forms from `prepare`, by batch index (an uplink without one is prepared here). */
  prepared?: ReadonlyArray<Prepared | undefined>;
  /** Rate-limit caps for the devices' traffic; none = unlimited. */
  caps?: PublishCaps;
  /** Rate-limit caps for the gateway's own traffic. */
  ownCaps?: PublishCaps;
}

/** An uplink the dialect refuses, with a reason a user can act on. */
export interface Refusal {
  index: number;
  reason: string;
}

export interface Encoded {
  publishes: Publish[];
  refused: Refusal[];
}

export interface Credentials {
  /** ThingsBoard access token, sent as the MQTT username with an empty password. */
  accessToken?: string;
  clientId?: string;
  username?: string;
  password?: string;
}

export interface ConnectOptions {
  clientId?: string;
  username?: string;
  password?: string;
}

export interface DecodeFailure {
  error: string;
}

export type Decoded = Downlink | DecodeFailure | null;

/**
 * Who the gateway is on its platform, as far as a dialect must know to name its topics and
 * correlate its acknowledgements. Each platform reads the fields it has; the rest stay unset.
 */
export interface GatewayIdentity {
  /** ThingsPanel: the gateway's device number (its topics carry it). */
  deviceNumber?: string;
  /** Watson IoT: the organisation, and the gateway's own device type and id. */
  org?: string;
  typeId?: string;
  deviceId?: string;
  /** Watson IoT: the type of a device announced without one (its profile). */
  deviceType?: string;
  /** Watson IoT: a managed gateway (device management protocol), its manage lifetime in seconds (0 or >= 3600, default 3600). */
  managed?: boolean;
  lifetimeS?: number;
  /** Watson IoT, tests only: re-manage every this many ms instead of at 90 % of the lifetime. */
  renewMs?: number;
}

/**
 * A platform's gateway protocol, pure: no I/O, no timers. The session owns the connection and
 * calls these to turn typed records into publishes and publishes back into typed records.
 */
export interface Dialect {
  readonly platform: string;
  /** Exact topic filters to subscribe after every (re)connect, one per SUBSCRIBE. */
  readonly subscriptions: readonly string[];
  /** The server's maximum payload in bytes unless it tells otherwise. */
  readonly defaultMaxPayload: number;
  /** Whether the platform has the gateway's own RPC channel (getSessionLimits, notices). */
  readonly hasGatewayRpc: boolean;
  /** Maps the user's credentials to MQTT CONNECT fields. */
  connectOptions(credentials: Credentials): ConnectOptions;
  /** Checks one uplink before it is queued; a string explains what is wrong. */
  validate(uplink: Uplink): string | null;
  /**
   * Serialises a valid uplink for `encode`; throws an Error a user can act on when a value does not
   * survive JSON (a throwing toJSON, a BigInt, a function, toJSON returning undefined).
   */
  prepare(uplink: Uplink): Prepared;
  /**
   * Encodes a batch (in queue order) into as few publishes as the protocol allows, none whose
   * packet remaining length (topic, packet id, `propertiesBytes` of MQTT 5 properties, payload)
   * exceeds `maxPacket` bytes, and none that draws more than `extras.caps` of a rate counter (an
   * uplink that cannot fit under them is refused, never sent). Order per device is preserved.
   */
  encode(batch: readonly Uplink[], maxPacket: number, propertiesBytes?: number, extras?: EncodeExtras): Encoded;
  /** Decodes one received message; null for topics that are not this dialect's. */
  decode(topic: string, payload: Buffer): Decoded;
  /**
   * Optional: the key of the platform's own acknowledgement that a publish on `topic` awaits
   * (an `uplinkAck` downlink with that key); its uplinks are delivered on that ack, not on the
   * PUBACK. Undefined (or no method): the PUBACK is the answer.
   */
  awaitsAck?(topic: string, payload?: Buffer): string | undefined;
  /**
   * Optional: the key under which the platform reports a failure of a publish on `topic` (an
   * `uplinkAck` downlink with a `failure`) when it has no positive ack (Watson's notify topic). A
   * failure that arrives before the PUBACK fails the publish's uplinks; otherwise the PUBACK delivers.
   */
  failureKey?(topic: string): string | undefined;
  /** Optional: the longest MQTT keepalive the server accepts, in seconds. */
  readonly maxKeepaliveS?: number;
  /**
   * Optional: what the gateway announces of itself after every connect, ahead of its devices
   * (Watson's managed gateway: its manage request); undefined = nothing.
   */
  gatewayAnnouncement?(): Uplink | undefined;
  /** Optional: while connected, the gateway and every device are announced again this often (ms). */
  readonly renewMs?: number;
  /**
   * Optional: the form `prepare` gives telemetry, when a store may rebuild it from each point's
   * values JSON instead of serialising a read-back uplink again. "ts-values": one piece per point,
   * `{"ts":<ts>,"values":<values JSON>}` (the values JSON alone for a point without ts), its
   * data points the values' keys (ThingsBoard). Undefined: read-back uplinks are prepared again.
   */
  readonly telemetryPieces?: "ts-values";
}

/**
 * Makes the dialect of one gateway session. Topics and subscriptions may depend on the gateway's
 * identity, so a dialect is made per session, never shared as a constant across gateways.
 */
export type DialectFactory = (identity: GatewayIdentity) => Dialect;
