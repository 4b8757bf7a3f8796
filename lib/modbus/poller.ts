// Polls one field device (unit) on a line by its read plan. A poll that is still running when
// the next is due makes that next one skipped (counted), never stacked. A unit that stops
// answering gives up the rest of its cycle at the first timeout and backs off, so the other
// units on the line keep their schedule.
import { EventEmitter } from "events";
import { decodeRegisters, entryWidth } from "./codec";
import { ModbusError, errorMessage, safeEmit } from "./errors";
import type { ModbusLine } from "./line";
import { planReads } from "./planner";
import { assertValidMap } from "./register-map";
import { Reporter } from "./report";
import type { MapEntry, PollResult, PollerStats, ReadPlan, ReadRequest, ReportPolicy, UnitOptions, UnitState, Value } from "./types";

function asModbusError(err: unknown): ModbusError {
  return err instanceof ModbusError ? err : new ModbusError("transport", errorMessage(err));
}

/** What one cycle produced, before reporting. */
interface CycleOutcome {
  result: PollResult;
  failure?: ModbusError;
}

/**
 * Events:
 * - `values` (PollResult): after every poll that decoded at least one key.
 * - `poll-error` (ModbusError): after every failed poll (not named `error`, so an unhandled
 *   failure can never throw from the EventEmitter).
 * - `state` (UnitState): when the unit's status changes (ok / not-responding / failing).
 * - `skipped` (PollerStats): a poll came due while the previous one was still running.
 */
export class UnitPoller extends EventEmitter {
  readonly unitId: number;
  readonly entries: readonly MapEntry[];
  readonly plan: ReadPlan;
  readonly stats: PollerStats = { polls: 0, skipped: 0, failedPolls: 0, totalFailedPolls: 0, requests: 0 };
  private readonly periodMs: number;
  private readonly reporter: Reporter;
  private readonly backoff: { initialMs: number; maxMs: number };
  private current: UnitState;
  private interval: NodeJS.Timeout | undefined;
  private firstTimer: NodeJS.Timeout | undefined;
  private running: Promise<CycleOutcome> | undefined;
  private backoffUntil = 0;
  /** Polls in a row that failed for the unit's own reason (no answer, a reply that is not one). */
  private failures = 0;
  private stopped = true;
  /** Set by stop(): results of a poll still running are dropped, no events after stop. */
  private halted = false;

  constructor(private readonly line: ModbusLine, options: UnitOptions) {
    super();
    if (!(Number.isInteger(options.unitId) && options.unitId >= 0 && options.unitId <= 255)) {
      throw new ModbusError("config", `unit id must be an integer 0..255, got ${JSON.stringify(options.unitId)}`);
    }
    if (!(Number.isFinite(options.periodMs) && options.periodMs >= 1)) {
      throw new ModbusError("config", `unit ${options.unitId}: periodMs must be a positive number`);
    }
    this.unitId = options.unitId;
    this.periodMs = options.periodMs;
    try {
      this.entries = assertValidMap(options.map);
    } catch (err) {
      throw new ModbusError("config", `unit ${options.unitId}: ${errorMessage(err)}`);
    }
    const { plan, errors } = planReads(this.entries, options.plan);
    if (errors.length) throw new ModbusError("config", `unit ${options.unitId}: cannot plan reads: ${errors.join("; ")}`);
    this.plan = plan;
    this.backoff = { initialMs: options.backoff?.initialMs ?? 1000, maxMs: options.backoff?.maxMs ?? 60000 };
    this.reporter = new Reporter(new Map<string, ReportPolicy | undefined>(this.entries.map((e) => [e.key, e.report])));
    this.current = { unitId: this.unitId, status: "ok", failedPolls: 0 };
  }

  get state(): UnitState {
    return { ...this.current };
  }

  /** Polls now and then every periodMs. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.halted = false;
    this.firstTimer = setTimeout(() => {
      this.firstTimer = undefined;
      this.tick();
    }, 0);
    this.interval = setInterval(() => this.tick(), this.periodMs);
  }

  /** Stops polling; resolves once a poll in progress has finished (its result is dropped). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.halted = true;
    clearTimeout(this.firstTimer);
    clearInterval(this.interval);
    this.firstTimer = this.interval = undefined;
    if (this.running) await this.running;
  }

  /** Forget last reported values, so the next poll reports every key (e.g. after a reconnect). */
  resetReports(): void {
    this.reporter.reset();
  }

  /**
   * One poll now (or the result of the one already running), with events as for a scheduled
   * poll unless stop() was called. Works without start().
   */
  async pollNow(): Promise<PollResult> {
    return (await (this.running ?? this.runCycle())).result;
  }

  private tick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.stats.skipped++;
      safeEmit(this, "skipped", { ...this.stats });
      return;
    }
    if (Date.now() < this.backoffUntil) return;
    void this.runCycle();
  }

  private runCycle(): Promise<CycleOutcome> {
    const p = this.cycle()
      .catch((err: unknown): CycleOutcome => ({
        // cycle() handles request failures itself; this is a last line against bugs
        result: { unitId: this.unitId, ts: Date.now(), values: {}, report: { telemetry: {}, attributes: {} }, errors: {} },
        failure: asModbusError(err),
      }))
      .then((outcome) => {
        this.running = undefined;
        this.settle(outcome);
        return outcome;
      });
    this.running = p;
    return p;
  }

  private async read(req: ReadRequest): Promise<number[] | boolean[]> {
    this.stats.requests++;
    // a unit in backoff is probed: one request, no retries, so it holds the line for one timeout
    const opts = this.failures > 0 ? { retries: 0 } : undefined;
    if (req.area === "coil" || req.area === "discrete") return this.line.readBits(this.unitId, req.area, req.address, req.count, opts);
    return this.line.readRegisters(this.unitId, req.area, req.address, req.count, opts);
  }

  private async cycle(): Promise<CycleOutcome> {
    const ts = Date.now();
    const values: Record<string, Value> = {};
    const errors: Record<string, string> = {};
    let failure: ModbusError | undefined;
    let abandon: ModbusError | undefined;
    const decode = (req: ReadRequest, data: number[] | boolean[]): void => {
      for (const i of req.entries) {
        const e = this.entries[i];
        const at = e.address - req.address;
        try {
          values[e.key] = typeof data[0] === "boolean"
            ? (data as boolean[])[at]
            : decodeRegisters(e, (data as number[]).slice(at, at + entryWidth(e)));
        } catch (err) {
          errors[e.key] = errorMessage(err);
          failure = failure ?? asModbusError(err);
        }
      }
    };
    const failed = (req: ReadRequest, err: unknown): ModbusError => {
      const e = asModbusError(err);
      failure = failure ?? e;
      for (const i of req.entries) errors[this.entries[i].key] = e.message;
      return e;
    };
    if (this.line.inFlight > 1 && this.failures === 0) {
      // a line that keeps several requests in flight gets the whole cycle at once
      const outcomes = await Promise.all(this.plan.requests.map((req) => this.read(req).then((d) => ({ d }), (err: unknown) => ({ err }))));
      outcomes.forEach((o, i) => ("err" in o ? failed(this.plan.requests[i], o.err) : decode(this.plan.requests[i], o.d)));
    } else {
      for (const req of this.plan.requests) {
        if (abandon) {
          for (const i of req.entries) errors[this.entries[i].key] = `not read: ${abandon.message}`;
          continue;
        }
        let data: number[] | boolean[];
        try {
          data = await this.read(req);
        } catch (err) {
          const e = failed(req, err);
          // an exception answer concerns only this request; anything else concerns the unit or line
          if (e.kind !== "exception") abandon = e;
          continue;
        }
        decode(req, data);
      }
    }
    const report = { telemetry: {} as Record<string, Value>, attributes: {} as Record<string, Value> };
    return { result: { unitId: this.unitId, ts, values, report, errors }, failure };
  }

  private setState(next: UnitState): void {
    const changed = next.status !== this.current.status || next.message !== this.current.message;
    this.current = next;
    if (changed) safeEmit(this, "state", { ...next });
  }

  /**
   * Backoff after a failed poll: initial * 2^n, capped, and at least 9 times the line time the
   * failed poll took, so a unit that does not answer holds a shared line at most a tenth of the
   * time. Until then the unit is not polled.
   */
  private backOff(heldMs: number): number {
    const exp = Math.min(this.backoff.maxMs, this.backoff.initialMs * 2 ** Math.min(this.failures++, 30));
    const delay = Math.max(exp, Math.min(this.backoff.maxMs, 9 * heldMs));
    this.backoffUntil = Date.now() + delay;
    return delay;
  }

  private settle({ result, failure }: CycleOutcome): void {
    this.stats.polls++;
    if (this.halted) return;
    if (Object.keys(result.values).length > 0) {
      const reported = this.reporter.filter(result.values, result.ts);
      for (const e of this.entries) {
        if (!(e.key in reported)) continue;
        if (e.target === "attribute") result.report.attributes[e.key] = reported[e.key];
        else result.report.telemetry[e.key] = reported[e.key];
      }
      safeEmit(this, "values", result);
    }
    if (!failure) {
      this.failures = 0;
      this.backoffUntil = 0;
      this.stats.failedPolls = 0;
      this.setState({ unitId: this.unitId, status: "ok", failedPolls: 0 });
      return;
    }
    this.stats.failedPolls++;
    this.stats.totalFailedPolls++;
    if (failure.kind === "timeout") {
      const delay = this.backOff(Date.now() - result.ts);
      this.setState({ unitId: this.unitId, status: "not-responding", message: `unit ${this.unitId} not responding; next try in ${delay} ms`, failedPolls: this.stats.failedPolls });
    } else if (failure.kind === "transport") {
      // garbled or wrong replies: the unit is there but cannot be trusted; it must not hold the line
      this.backOff(Date.now() - result.ts);
      this.setState({ unitId: this.unitId, status: "failing", message: failure.message, failedPolls: this.stats.failedPolls });
    } else {
      this.setState({ unitId: this.unitId, status: "failing", message: failure.message, failedPolls: this.stats.failedPolls });
    }
    safeEmit(this, "poll-error", failure);
  }
}
