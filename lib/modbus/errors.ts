// Errors are values with a message a user can act on; `kind` lets callers decide without
// parsing the message.
import type { Area } from "./types";

export type ModbusErrorKind =
  | "config"
  | "range"
  | "exception"
  | "timeout"
  | "disconnected"
  | "queue-full"
  | "closed"
  | "transport";

export class ModbusError extends Error {
  readonly kind: ModbusErrorKind;
  readonly modbusCode?: number;
  readonly unitId?: number;

  constructor(kind: ModbusErrorKind, message: string, extra?: { modbusCode?: number; unitId?: number }) {
    super(message);
    this.name = "ModbusError";
    this.kind = kind;
    this.modbusCode = extra?.modbusCode;
    this.unitId = extra?.unitId;
  }
}

const EXCEPTION_NAMES: Record<number, string> = {
  1: "illegal function",
  2: "illegal data address",
  3: "illegal data value",
  4: "server device failure",
  5: "acknowledge",
  6: "server device busy",
  7: "negative acknowledge",
  8: "memory parity error",
  10: "gateway path unavailable",
  11: "gateway target device failed to respond",
};

export function exceptionName(code: number): string {
  return EXCEPTION_NAMES[code] ?? `exception code ${code}`;
}

/** What a request was doing, to word its failure. */
export interface RequestContext {
  unitId: number;
  op: "read" | "write";
  area: Area;
  address: number;
  count: number;
  timeoutMs: number;
}

function field(err: unknown, name: string): unknown {
  if (typeof err === "object" && err !== null && name in err) {
    return (err as Record<string, unknown>)[name];
  }
  return undefined;
}

export function errorMessage(err: unknown): string {
  const m = field(err, "message");
  if (typeof m === "string" && m) return m;
  return String(err);
}

/** True when modbus-serial says the port is not open: the transport dropped under us. */
export function isPortNotOpen(err: unknown): boolean {
  return field(err, "name") === "PortNotOpenError" || errorMessage(err) === "Port Not Open";
}

export function isTimeout(err: unknown): boolean {
  return (err instanceof ModbusError && err.kind === "timeout") || field(err, "errno") === "ETIMEDOUT" || field(err, "name") === "TransactionTimedOutError";
}

function where(ctx: RequestContext): string {
  const span = ctx.count > 1 ? `${ctx.address}..${ctx.address + ctx.count - 1}` : `${ctx.address}`;
  return `${ctx.area} ${span}`;
}

/** Turns whatever a request failed with into a ModbusError a user can read, naming the request. */
export function describeRequestError(err: unknown, ctx: RequestContext): ModbusError {
  if (err instanceof ModbusError && err.kind !== "exception" && err.kind !== "timeout" && err.kind !== "transport") return err;
  const code = field(err, "modbusCode");
  if (typeof code === "number") {
    return new ModbusError("exception", `${exceptionName(code)} at ${where(ctx)} (unit ${ctx.unitId}, ${ctx.op})`, {
      modbusCode: code,
      unitId: ctx.unitId,
    });
  }
  if (isTimeout(err)) {
    return new ModbusError(
      "timeout",
      `unit ${ctx.unitId} not responding (no answer within ${ctx.timeoutMs} ms to ${ctx.op} ${where(ctx)})`,
      { unitId: ctx.unitId }
    );
  }
  if (isPortNotOpen(err)) {
    return new ModbusError("disconnected", `not connected (unit ${ctx.unitId}, ${ctx.op} ${where(ctx)})`, {
      unitId: ctx.unitId,
    });
  }
  if (err instanceof ModbusError && err.kind !== "transport") return err;
  return new ModbusError("transport", `${ctx.op} ${where(ctx)} on unit ${ctx.unitId} failed: ${errorMessage(err)}`, {
    unitId: ctx.unitId,
  });
}

/**
 * Emits without letting a listener's exception escape: the engine emits from timers and promise
 * handlers, where a throw would become an uncaught exception or an unhandled rejection and take
 * the whole process down. The listener's bug is still reported, as a process warning.
 */
export function safeEmit(emitter: { emit(event: string, ...args: unknown[]): boolean }, event: string, value: unknown): void {
  try {
    emitter.emit(event, value);
  } catch (err) {
    process.emitWarning(`a listener of modbus "${event}" threw: ${errorMessage(err)}`, "ModbusListenerWarning");
  }
}
