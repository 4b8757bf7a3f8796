// One Modbus line: a TCP connection or a serial port, shared by every unit on it. Requests are
// serialised (one in flight), queued up to a bound, retried on timeout, and spaced by an optional
// silence. A dropped transport is reopened with capped exponential backoff. Nothing here throws
// asynchronously: every failure settles the caller's promise with a ModbusError.
import { EventEmitter } from "events";
import { ModbusError, describeRequestError, errorMessage, isPortNotOpen, isTimeout, safeEmit, type RequestContext } from "./errors";
import { checkLineOptions, describeTarget, discardClient, emitterOf, openClient, type Client } from "./transport";
import type { Area, LineOptions, LineState } from "./types";

interface Job {
  ctx: RequestContext;
  retries: number;
  run(client: Client): Promise<unknown>;
  resolve(v: unknown): void;
  reject(e: ModbusError): void;
}

export interface RequestOptions {
  timeoutMs?: number;
  retries?: number;
}

export interface LineStats {
  requests: number;
  timeouts: number;
  exceptions: number;
  reconnects: number;
}

/** Backoff delay for attempt n (0-based): initial * 2^n, capped, with up to 10% jitter. */
export function backoffDelay(n: number, initialMs: number, maxMs: number, random: () => number = Math.random): number {
  const base = Math.min(maxMs, initialMs * 2 ** Math.min(n, 30));
  return Math.round(Math.min(maxMs, base * (1 + 0.1 * random())));
}

/**
 * Events: `state` (LineState) on every status change.
 */
export class ModbusLine extends EventEmitter {
  readonly options: Readonly<LineOptions>;
  readonly target: string;
  readonly stats: LineStats = { requests: 0, timeouts: 0, exceptions: 0, reconnects: 0 };
  private current: LineState = { status: "idle" };
  private client: Client | undefined;
  private readonly queue: Job[] = [];
  private inFlight: Promise<void> | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private delayTimer: NodeJS.Timeout | undefined;
  private attempts = 0;
  private silentInARow = 0;
  private connectedOnce = false;

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

  /** Requests waiting behind the one in flight. */
  get queueLength(): number {
    return this.queue.length;
  }

  private get timeoutMs(): number {
    return this.options.timeoutMs ?? 1000;
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
    openClient(this.options, this.options.connectTimeoutMs ?? 5000).then(
      (client) => {
        if (this.current.status === "closed") return discardClient(client);
        this.client = client;
        this.attempts = 0;
        if (this.connectedOnce) this.stats.reconnects++;
        this.connectedOnce = true;
        emitterOf(client).once("close", () => this.dropped(client, "connection closed by the other end"));
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

  private dropped(client: Client, reason: string): void {
    if (client !== this.client || this.current.status !== "connected") return;
    this.client = undefined;
    discardClient(client);
    this.scheduleReconnect(reason);
  }

  private failQueue(err: ModbusError): void {
    for (const job of this.queue.splice(0)) job.reject(err);
  }

  /** Queues a request; `run` gets the client with the unit id and timeout already set. */
  request<T>(ctx: Omit<RequestContext, "timeoutMs">, run: (client: Client) => Promise<T>, opts: RequestOptions = {}): Promise<T> {
    const full: RequestContext = { ...ctx, timeoutMs: opts.timeoutMs ?? this.timeoutMs };
    const status = this.current.status;
    if (status === "closed") return Promise.reject(new ModbusError("closed", `line ${this.target} is closed`));
    if (status === "disconnected") {
      const next = this.current.retryInMs !== undefined ? `; retrying every ${this.current.retryInMs} ms or so` : "";
      return Promise.reject(new ModbusError("disconnected", `not connected to ${this.target}: ${this.current.reason ?? "unknown reason"}${next}`, { unitId: ctx.unitId }));
    }
    const limit = this.options.queueLimit ?? 100;
    if (this.queue.length >= limit) {
      return Promise.reject(new ModbusError("queue-full", `queue of ${this.target} is full (${limit} requests waiting); the line is slower than the polling asks for`, { unitId: ctx.unitId }));
    }
    return new Promise<T>((resolve, reject) => {
      this.queue.push({
        ctx: full,
        retries: opts.retries ?? this.options.retries ?? 1,
        run,
        resolve: (v) => resolve(v as T),
        reject,
      });
      if (status === "idle") this.open();
      this.pump();
    });
  }

  private pump(): void {
    if (this.inFlight || this.delayTimer || this.current.status !== "connected" || !this.client) return;
    const job = this.queue.shift();
    if (!job) return;
    const client = this.client;
    this.inFlight = this.execute(client, job).then(() => {
      this.inFlight = undefined;
      const delay = this.options.interRequestDelayMs ?? 0;
      if (delay > 0 && this.current.status !== "closed") {
        this.delayTimer = setTimeout(() => {
          this.delayTimer = undefined;
          this.pump();
        }, delay);
      } else this.pump();
    });
  }

  /** Runs one job with retries; always resolves (the job's own promise carries the outcome). */
  private async execute(client: Client, job: Job): Promise<void> {
    const { ctx } = job;
    for (let attempt = 0; ; attempt++) {
      try {
        client.setID(ctx.unitId);
        client.setTimeout(ctx.timeoutMs);
        this.stats.requests++;
        job.resolve(await guard(job.run(client), ctx.timeoutMs + 250));
        this.silentInARow = 0;
        return;
      } catch (err) {
        if (this.current.status === "closed") return job.reject(new ModbusError("closed", `line ${this.target} is closed`));
        if (isPortNotOpen(err)) {
          this.dropped(client, "connection lost");
          return job.reject(new ModbusError("disconnected", `not connected to ${this.target}: connection lost`, { unitId: ctx.unitId }));
        }
        if (isTimeout(err)) {
          this.stats.timeouts++;
          this.silentInARow++;
          const limit = this.options.dropAfterTimeouts ?? 0;
          if (limit > 0 && this.silentInARow >= limit) {
            this.silentInARow = 0;
            this.dropped(client, `no answer to ${limit} requests in a row`);
          } else if (attempt < job.retries) continue;
        } else this.silentInARow = 0;
        const e = describeRequestError(err, ctx);
        if (e.kind === "exception") this.stats.exceptions++;
        return job.reject(e);
      }
    }
  }

  async readRegisters(unitId: number, area: "holding" | "input", address: number, count: number, opts?: RequestOptions): Promise<number[]> {
    const r = await this.request({ unitId, op: "read", area, address, count }, (c) =>
      area === "holding" ? c.readHoldingRegisters(address, count) : c.readInputRegisters(address, count), opts);
    return checkLength(r.data, count, unitId, area, address);
  }

  async readBits(unitId: number, area: "coil" | "discrete", address: number, count: number, opts?: RequestOptions): Promise<boolean[]> {
    const r = await this.request({ unitId, op: "read", area, address, count }, (c) =>
      area === "coil" ? c.readCoils(address, count) : c.readDiscreteInputs(address, count), opts);
    // FC1/FC2 answers come in whole bytes; the padding bits are not ours
    return checkLength(r.data.slice(0, count), count, unitId, area, address);
  }

  async writeCoil(unitId: number, address: number, value: boolean, opts?: RequestOptions): Promise<void> {
    await this.request({ unitId, op: "write", area: "coil", address, count: 1 }, (c) => c.writeCoil(address, value), opts);
  }

  async writeCoils(unitId: number, address: number, values: boolean[], opts?: RequestOptions): Promise<void> {
    await this.request({ unitId, op: "write", area: "coil", address, count: values.length }, (c) => c.writeCoils(address, values), opts);
  }

  async writeRegister(unitId: number, address: number, value: number, opts?: RequestOptions): Promise<void> {
    await this.request({ unitId, op: "write", area: "holding", address, count: 1 }, (c) => c.writeRegister(address, value), opts);
  }

  async writeRegisters(unitId: number, address: number, values: number[], opts?: RequestOptions): Promise<void> {
    await this.request({ unitId, op: "write", area: "holding", address, count: values.length }, (c) => c.writeRegisters(address, values), opts);
  }

  /**
   * Closes the line: queued requests fail with kind "closed", the request in flight is allowed
   * to finish (bounded by its timeout), then the port is closed. Every timer is cleared.
   */
  async close(): Promise<void> {
    if (this.current.status === "closed") return;
    this.setState({ status: "closed" });
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.delayTimer);
    this.reconnectTimer = this.delayTimer = undefined;
    this.failQueue(new ModbusError("closed", `line ${this.target} is closed`));
    if (this.inFlight) await this.inFlight;
    clearTimeout(this.delayTimer);
    this.delayTimer = undefined;
    const client = this.client;
    this.client = undefined;
    if (client) discardClient(client);
  }
}

function checkLength<T>(data: T[], count: number, unitId: number, area: Area, address: number): T[] {
  if (data.length !== count) {
    throw new ModbusError("transport", `unit ${unitId} answered ${data.length} values for ${count} requested at ${area} ${address}`, { unitId });
  }
  return data;
}

/** modbus-serial has its own timeout; this one only guarantees that nothing hangs forever. */
function guard<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(Object.assign(new Error("Timed out"), { errno: "ETIMEDOUT" })), ms);
    p.then(
      (v) => { clearTimeout(timer); resolve(v); },
      (e: unknown) => { clearTimeout(timer); reject(e); }
    );
  });
}
