// One Modbus line: a TCP connection or a serial port, shared by every unit on it. Requests are
// queued up to a bound, sent one at a time (or, on Modbus TCP with `inFlight` > 1, up to that
// many at once), retried on timeout, and spaced by an optional silence. A dropped transport is
// reopened with capped exponential backoff; a TCP connection dropped because its stream went
// out of step (lib/modbus/link.ts) is reopened at once, and the requests of other units that
// were on it are sent again. Nothing here throws asynchronously: every failure settles the
// caller's promise with a ModbusError.
import { EventEmitter } from "events";
import { ModbusError, describeRequestError, errorMessage, isTimeout, safeEmit, type RequestContext } from "./errors";
import type { FunctionCode, Request } from "./frame";
import { isInnocent, isUnattributed } from "./link";
import { checkLineOptions, describeTarget, openLink, type Link } from "./transport";
import type { Area, LineOptions, LineState } from "./types";

interface Job {
  ctx: RequestContext;
  req: Request;
  retries: number;
  /** Times sent again because another request broke the connection it was on. */
  resent: number;
  resolve(v: number[] | boolean[]): void;
  reject(e: ModbusError): void;
}

export interface RequestOptions {
  timeoutMs?: number;
  retries?: number;
}

export interface LineStats {
  /** Requests sent (each retry again). */
  requests: number;
  /** Requests that ended in an error for their caller (not counting those failed by closing the line). */
  errors: number;
  timeouts: number;
  exceptions: number;
  reconnects: number;
  /** Connections dropped because a frame could not be read (TCP), or recoveries (serial). */
  resyncs: number;
}

/** Backoff delay for attempt n (0-based): initial * 2^n, capped, with up to 10% jitter. */
export function backoffDelay(n: number, initialMs: number, maxMs: number, random: () => number = Math.random): number {
  const base = Math.min(maxMs, initialMs * 2 ** Math.min(n, 30));
  return Math.round(Math.min(maxMs, base * (1 + 0.1 * random())));
}

const OUT_OF_STEP = "out of step: ";

/**
 * Events: `state` (LineState) on every status change.
 */
export class ModbusLine extends EventEmitter {
  readonly options: Readonly<LineOptions>;
  readonly target: string;
  readonly stats: LineStats = { requests: 0, errors: 0, timeouts: 0, exceptions: 0, reconnects: 0, resyncs: 0 };
  private current: LineState = { status: "idle" };
  private link: Link | undefined;
  private readonly queue: Job[] = [];
  private readonly active = new Set<Promise<void>>();
  private reconnectTimer: NodeJS.Timeout | undefined;
  private delayTimer: NodeJS.Timeout | undefined;
  private attempts = 0;
  private silentInARow = 0;
  private connectedOnce = false;
  /** Connections dropped out of step in a row with no good reply between: the first few reconnect at once. */
  private resyncsInARow = 0;
  /** Requests still to send one at a time after a break nobody could be blamed for. */
  private isolating = 0;

  constructor(options: LineOptions) {
    super();
    const errors = checkLineOptions(options);
    if (errors.length) throw new ModbusError("config", `invalid Modbus line: ${errors.join("; ")}`);
    this.options = { ...options };
    this.target = describeTarget(options);
  }

  get state(): LineState {
    return { ...this.current };
  }

  /** Requests waiting behind the ones in flight. */
  get queueLength(): number {
    return this.queue.length;
  }

  private get timeoutMs(): number {
    return this.options.timeoutMs ?? 1000;
  }

  /** Requests this line keeps in flight at once (Modbus TCP with `inFlight`; 1 otherwise). */
  get inFlight(): number {
    return this.options.transport === "tcp" ? this.options.inFlight ?? 1 : 1;
  }

  private get window(): number {
    return this.isolating > 0 ? 1 : this.inFlight;
  }

  private setState(s: LineState): void {
    this.current = s;
    safeEmit(this, "state", { ...s });
  }

  /** Starts connecting (also happens on the first request). Idempotent. */
  open(): void {
    if (this.current.status === "idle") this.connect();
  }

  private connect(): void {
    this.reconnectTimer = undefined;
    this.setState({ status: "connecting" });
    openLink(this.options, this.options.connectTimeoutMs ?? 5000).then(
      (link) => {
        if (this.current.status === "closed") return link.destroy("line closed");
        this.link = link;
        if (this.connectedOnce) this.stats.reconnects++;
        this.connectedOnce = true;
        link.once("drop", (reason: string) => this.dropped(link, reason));
        this.setState({ status: "connected" });
        this.pump();
      },
      (err: unknown) => {
        if (this.current.status === "closed") return;
        this.scheduleReconnect(errorMessage(err));
      }
    );
  }

  private scheduleReconnect(reason: string): void {
    const r = this.options.reconnect ?? {};
    const delay = backoffDelay(this.attempts++, r.initialMs ?? 1000, r.maxMs ?? 30000);
    this.setState({ status: "disconnected", reason, retryInMs: delay });
    this.failQueue(new ModbusError("disconnected", `not connected to ${this.target}: ${reason}`));
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  private dropped(link: Link, reason: string): void {
    if (link !== this.link) return;
    this.link = undefined;
    link.destroy(reason);
    if (this.current.status === "closed") return;
    if (reason.startsWith(OUT_OF_STEP)) {
      this.stats.resyncs++;
      // one frame broke the stream: a new connection reads every later frame right. The queue is
      // kept; a server that breaks every new connection before a good reply backs off as usual.
      if (++this.resyncsInARow <= 3) {
        this.attempts = 0;
        this.connect();
        return;
      }
    }
    this.scheduleReconnect(reason);
  }

  private failQueue(err: ModbusError): void {
    for (const job of this.queue.splice(0)) job.reject(this.failed(err));
  }

  /** The error a request ends with, counted (closing the line is no error of the request). */
  private failed(err: ModbusError): ModbusError {
    if (err.kind !== "closed") this.stats.errors++;
    return err;
  }

  /** Queues one request. */
  request(req: Request, area: Area, opts: RequestOptions = {}): Promise<number[] | boolean[]> {
    const ctx: RequestContext = { unitId: req.unitId, op: req.fc >= 5 ? "write" : "read", area, address: req.address, count: req.count, timeoutMs: opts.timeoutMs ?? this.timeoutMs };
    const status = this.current.status;
    if (status === "closed") return Promise.reject(new ModbusError("closed", `line ${this.target} is closed`));
    if (status === "disconnected") {
      const next = this.current.retryInMs !== undefined ? `; retrying every ${this.current.retryInMs} ms or so` : "";
      return Promise.reject(this.failed(new ModbusError("disconnected", `not connected to ${this.target}: ${this.current.reason ?? "unknown reason"}${next}`, { unitId: req.unitId })));
    }
    const limit = this.options.queueLimit ?? 100;
    if (this.queue.length >= limit) {
      return Promise.reject(this.failed(new ModbusError("queue-full", `queue of ${this.target} is full (${limit} requests waiting); the line is slower than the polling asks for`, { unitId: req.unitId })));
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ ctx, req, retries: opts.retries ?? this.options.retries ?? 1, resent: 0, resolve, reject });
      if (status === "idle") this.open();
      this.pump();
    });
  }

  private pump(): void {
    while (this.active.size < this.window && !this.delayTimer && this.current.status === "connected" && this.link) {
      const job = this.queue.shift();
      if (!job) return;
      const run: Promise<void> = this.execute(this.link, job).then(() => {
        this.active.delete(run);
        const delay = this.options.interRequestDelayMs ?? 0;
        if (delay > 0 && this.current.status !== "closed" && !this.delayTimer) {
          this.delayTimer = setTimeout(() => {
            this.delayTimer = undefined;
            this.pump();
          }, delay);
        } else this.pump();
      });
      this.active.add(run);
    }
  }

  /** Runs one job with retries; always resolves (the job's own promise carries the outcome). */
  private async execute(link: Link, job: Job): Promise<void> {
    const { ctx } = job;
    for (let attempt = 0; ; attempt++) {
      try {
        this.stats.requests++;
        const reply = await link.transact(job.req, ctx.timeoutMs);
        this.resyncsInARow = 0;
        this.silentInARow = 0;
        if (this.isolating > 0) this.isolating--;
        job.resolve(reply.data);
        return;
      } catch (err) {
        if (this.current.status === "closed") return job.reject(new ModbusError("closed", `line ${this.target} is closed`));
        if (isInnocent(err) && job.resent < 3 && this.current.status !== "disconnected") {
          // another unit's reply broke the connection this request was on: send it on the next one
          job.resent++;
          if (isUnattributed(err)) this.isolating = Math.max(this.isolating, 2 * (this.options.inFlight ?? 1));
          this.queue.unshift(job);
          return;
        }
        if (err instanceof ModbusError && err.kind === "disconnected") {
          return job.reject(this.failed(new ModbusError("disconnected", `not connected to ${this.target}: ${err.message}`, { unitId: ctx.unitId })));
        }
        if (isTimeout(err)) {
          this.stats.timeouts++;
          this.silentInARow++;
          const limit = this.options.dropAfterTimeouts ?? 0;
          if (limit > 0 && this.silentInARow >= limit) {
            this.silentInARow = 0;
            if (this.link === link) link.destroy(`no answer to ${limit} requests in a row`);
          } else if (attempt < job.retries && this.link === link) continue;
        } else this.silentInARow = 0;
        const e = describeRequestError(err, ctx);
        if (e.kind === "exception") this.stats.exceptions++;
        return job.reject(this.failed(e));
      }
    }
  }

  async readRegisters(unitId: number, area: "holding" | "input", address: number, count: number, opts?: RequestOptions): Promise<number[]> {
    return (await this.request({ unitId, fc: area === "holding" ? 3 : 4, address, count }, area, opts)) as number[];
  }

  async readBits(unitId: number, area: "coil" | "discrete", address: number, count: number, opts?: RequestOptions): Promise<boolean[]> {
    return (await this.request({ unitId, fc: area === "coil" ? 1 : 2, address, count }, area, opts)) as boolean[];
  }

  private async write(unitId: number, fc: FunctionCode, area: "coil" | "holding", address: number, values: Array<boolean | number>, opts?: RequestOptions): Promise<void> {
    await this.request({ unitId, fc, address, count: values.length, values }, area, opts);
  }

  writeCoil(unitId: number, address: number, value: boolean, opts?: RequestOptions): Promise<void> {
    return this.write(unitId, 5, "coil", address, [value], opts);
  }

  writeCoils(unitId: number, address: number, values: boolean[], opts?: RequestOptions): Promise<void> {
    return this.write(unitId, 15, "coil", address, values, opts);
  }

  writeRegister(unitId: number, address: number, value: number, opts?: RequestOptions): Promise<void> {
    return this.write(unitId, 6, "holding", address, [value], opts);
  }

  writeRegisters(unitId: number, address: number, values: number[], opts?: RequestOptions): Promise<void> {
    return this.write(unitId, 16, "holding", address, values, opts);
  }

  /**
   * Closes the line: queued requests fail with kind "closed", the requests in flight are allowed
   * to finish (bounded by their timeout), then the port is closed. Every timer is cleared.
   */
  async close(): Promise<void> {
    if (this.current.status === "closed") return;
    this.setState({ status: "closed" });
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.delayTimer);
    this.reconnectTimer = this.delayTimer = undefined;
    this.failQueue(new ModbusError("closed", `line ${this.target} is closed`));
    while (this.active.size) await Promise.all([...this.active]);
    clearTimeout(this.delayTimer);
    this.delayTimer = undefined;
    const link = this.link;
    this.link = undefined;
    if (link) link.destroy("line closed");
  }
}
