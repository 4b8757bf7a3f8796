// Public types of the Modbus engine. Addresses are protocol (0-based) addresses as they go on
// the wire: holding register "40001" in a vendor's table is address 0 here.

/** The four Modbus data tables. */
export type Area = "coil" | "discrete" | "holding" | "input";

/**
 * `bool` is one coil or discrete input; `bit` is one bit (0 = least significant) of a holding
 * or input register; every other type lives in registers.
 */
export type DataType =
  | "bool"
  | "bit"
  | "int16"
  | "uint16"
  | "int32"
  | "uint32"
  | "float32"
  | "int64"
  | "uint64"
  | "float64"
  | "string";

/**
 * Byte and word order of a multi-register value, named by where bytes A (most significant) ..
 * D land: ABCD = big-endian bytes and words (Modbus default); BADC = bytes swapped in each
 * word; CDAB = word order reversed (for 64-bit values: all four words reversed); DCBA = both,
 * i.e. fully little-endian. For strings only the byte swap applies (BADC/DCBA swap the two
 * characters of each register).
 */
export type Order = "ABCD" | "BADC" | "CDAB" | "DCBA";

export type Target = "telemetry" | "attribute";

export type ReportMode = "every-poll" | "on-change" | "period" | "change-or-period";

export interface ReportPolicy {
  mode: ReportMode;
  /** on-change: report when |new - last reported| > deadband (numbers only). */
  deadband?: number;
  /** on-change: report when |new - last reported| > |last reported| * deadbandPercent / 100. */
  deadbandPercent?: number;
  /** period / change-or-period: report at least this often. */
  periodMs?: number;
}

/**
 * A decoded value. 64-bit integers beyond ±2^53 (and without scale/offset) come out as a
 * decimal string so telemetry stays exact JSON; everything numeric else is a number.
 */
export type Value = number | boolean | string;

export interface MapEntry {
  key: string;
  area: Area;
  address: number;
  type: DataType;
  /** For `bit`: the bit number 0..15 in the register. */
  bit?: number;
  /** For `string`: number of registers (2 characters each). */
  length?: number;
  /** Default ABCD. */
  order?: Order;
  /** value = raw * scale + offset. Default 1. */
  scale?: number;
  /** Default 0. */
  offset?: number;
  /** Decimals to round the scaled value to. */
  round?: number;
  /** Default telemetry. */
  target?: Target;
  /** Default false. Only coil and holding entries can be writable. */
  writable?: boolean;
  /** Default every-poll. */
  report?: ReportPolicy;
}

/** Addresses (inclusive) that must never be read, e.g. registers that clear on read. */
export interface AddressRange {
  /** Omitted: the range applies to every area. */
  area?: Area;
  start: number;
  end: number;
}

export interface PlanOptions {
  /** Largest gap (unread registers) bridged to merge two reads. Default 10. */
  maxGapRegisters?: number;
  /** Largest gap (unread bits) bridged to merge two reads. Default 64. */
  maxGapBits?: number;
  /** Registers per FC3/FC4 request, 1..125. Default 125 (some devices need less). */
  maxRegisters?: number;
  /** Bits per FC1/FC2 request, 1..2000. Default 2000. */
  maxBits?: number;
  forbidden?: AddressRange[];
}

/** One read on the wire: `count` registers/bits from `address`, serving `entries` (indexes into the map). */
export interface ReadRequest {
  area: Area;
  address: number;
  count: number;
  entries: number[];
}

export interface ReadPlan {
  requests: ReadRequest[];
}

export type Transport = "tcp" | "rtu" | "rtu-over-tcp" | "ascii";

export interface BackoffOptions {
  /** First delay. */
  initialMs?: number;
  /** Cap. */
  maxMs?: number;
}

export interface LineOptions {
  transport: Transport;
  /** tcp / rtu-over-tcp. */
  host?: string;
  /** tcp default 502; rtu-over-tcp default 502 as well (gateways vary: set it). */
  port?: number;
  /** rtu / ascii: serial device path, e.g. /dev/ttyUSB0. */
  path?: string;
  baudRate?: number;
  dataBits?: 7 | 8;
  stopBits?: 1 | 2;
  parity?: "none" | "even" | "odd";
  /** Per-request response timeout. Default 1000. */
  timeoutMs?: number;
  /** Extra attempts after a timeout (not after an exception response). Default 1. */
  retries?: number;
  /** Silence after each request before the next, for slow devices/gateways. Default 0. */
  interRequestDelayMs?: number;
  /** Requests waiting on the line beyond the one in flight. Default 100. */
  queueLimit?: number;
  /** Default 5000. */
  connectTimeoutMs?: number;
  /**
   * Drop and reopen the connection after this many requests in a row got no answer at all
   * (any unit). Catches half-open TCP connections and gateways that lost their way; leave 0
   * (the default: never) on lines where a unit may stay dead for long while others answer.
   */
  dropAfterTimeouts?: number;
  /** Reconnect backoff. Default 1000 .. 30000. */
  reconnect?: BackoffOptions;
  /**
   * Modbus TCP only: requests in flight at once on the connection (transaction ids keep them
   * apart), for servers that answer concurrently. Default 1; serial lines always take one.
   */
  inFlight?: number;
  /**
   * RTU / ASCII / RTU over TCP: after a timeout, CRC error or unexpected frame, input is
   * discarded until the line has been quiet this long, before the next request. Default timeoutMs.
   */
  recoveryMs?: number;
}

export type LineStatus = "idle" | "connecting" | "connected" | "disconnected" | "closed";

export interface LineState {
  status: LineStatus;
  /** Why it is disconnected (or what failed while connecting). */
  reason?: string;
  /** disconnected: when the next attempt runs. */
  retryInMs?: number;
}

export interface UnitOptions {
  unitId: number;
  map: MapEntry[];
  periodMs: number;
  plan?: PlanOptions;
  /** Backoff of a unit that does not answer. Default 1000 .. 60000. */
  backoff?: BackoffOptions;
}

export type UnitStatus = "ok" | "not-responding" | "failing";

export interface UnitState {
  unitId: number;
  status: UnitStatus;
  message?: string;
  /** Consecutive failed polls. */
  failedPolls: number;
}

export interface PollResult {
  unitId: number;
  ts: number;
  /** Every key decoded in this poll. */
  values: Record<string, Value>;
  /** The subset the report strategies let through, split by target. */
  report: { telemetry: Record<string, Value>; attributes: Record<string, Value> };
  /** Keys that could not be read this poll, with why. */
  errors: Record<string, string>;
}

export interface PollerStats {
  polls: number;
  skipped: number;
  failedPolls: number;
  totalFailedPolls: number;
  requests: number;
}
