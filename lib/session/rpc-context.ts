// The RPCs the platform is waiting on. An RPC is open from its arrival until it is answered
// (by the flow, or automatically with an error), or the session closes: a second answer finds
// it closed and is refused, so the platform never gets two replies to one request.
import type { Uplink } from "../records";

/** What a msg carries to answer an RPC; `device` undefined = the gateway device itself. */
export interface RpcContext {
  device?: string;
  id: number;
  method: string;
}

export class RpcAnswerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RpcAnswerError";
  }
}

function keyOf(ctx: { device?: string; id: number }): string {
  return ctx.device === undefined ? `gateway\u0000${ctx.id}` : `${ctx.device}\u0000${ctx.id}`;
}

/** `withId` false: the same words for every RPC of that method and device (a warning said once). */
export function describeRpc(ctx: { device?: string; id: number; method?: string }, withId = true): string {
  const method = ctx.method ? `"${ctx.method}" ` : "";
  return `RPC ${method}${withId ? `${ctx.id} ` : ""}of ${ctx.device === undefined ? "the gateway" : `"${ctx.device}"`}`;
}

/** The uplink that answers an RPC. */
export function answerUplink(ctx: { device?: string; id: number }, data: unknown): Uplink {
  return ctx.device === undefined ? { kind: "gatewayRpcResponse", id: ctx.id, data } : { kind: "rpcResponse", device: ctx.device, id: ctx.id, data };
}

/**
 * What is wrong with an answer's data (it must serialise to JSON); null when it can be sent.
 * A function, a Symbol or a toJSON returning undefined serialise to nothing: the reply would
 * lack its "data", and ThingsBoard closes the connection for it.
 */
export function answerProblem(data: unknown): string | null {
  try {
    if (data !== undefined && JSON.stringify(data) === undefined) return `the answer cannot be sent as JSON: a ${typeof data} has no JSON form`;
    return null;
  } catch (err) {
    return `the answer cannot be sent as JSON: ${err instanceof Error ? err.message : String(err)}`;
  }
}

interface Open {
  ctx: RpcContext;
  /** When it arrived (ms epoch): the sidebar shows the oldest one's age. */
  at: number;
  timer?: NodeJS.Timeout;
  expiry?: NodeJS.Timeout;
}

export interface OpenRpcsOptions {
  /** RPCs open at most; the oldest is closed first (default unbounded). */
  max?: number;
  /** Told when an RPC is closed unanswered (its time ran out, or too many are open). */
  expired?: (ctx: RpcContext, why: string) => void;
}

export class OpenRpcs {
  /** In arrival order: the first is the oldest. */
  private readonly open = new Map<string, Open>();

  /**
   * @param autoAnswer called when an RPC's auto-answer time has passed and it is still open;
   *   it is closed by then.
   */
  constructor(
    private readonly autoAnswer: (ctx: RpcContext, afterMs: number) => void,
    private readonly options: OpenRpcsOptions = {},
  ) {}

  get size(): number {
    return this.open.size;
  }

  /**
   * Opens an RPC (again, if the platform repeats an id); answered automatically after
   * `autoAnswerMs`, closed unanswered after `expireMs` (the platform's caller gave up by then).
   */
  add(ctx: RpcContext, autoAnswerMs?: number, expireMs?: number): void {
    this.take(ctx);
    const key = keyOf(ctx);
    const entry: Open = { ctx, at: Date.now() };
    if (autoAnswerMs !== undefined && autoAnswerMs > 0) {
      entry.timer = setTimeout(() => {
        if (this.open.get(key) !== entry) return;
        this.close(key, entry);
        this.autoAnswer(entry.ctx, autoAnswerMs);
      }, autoAnswerMs);
    }
    if (expireMs !== undefined && expireMs > 0 && Number.isFinite(expireMs) && (entry.timer === undefined || expireMs < (autoAnswerMs ?? 0))) {
      entry.expiry = setTimeout(() => {
        if (this.open.get(key) !== entry) return;
        this.close(key, entry);
        this.options.expired?.(entry.ctx, `was not answered within ${expireMs} ms`);
      }, expireMs);
    }
    this.open.set(key, entry);
    const max = this.options.max;
    if (max !== undefined && this.open.size > max) {
      const [oldestKey, oldest] = this.open.entries().next().value as [string, Open];
      this.close(oldestKey, oldest);
      this.options.expired?.(oldest.ctx, `was closed unanswered: more than ${max} RPCs were waiting for the flow`);
    }
  }

  private close(key: string, e: Open): void {
    if (e.timer) clearTimeout(e.timer);
    if (e.expiry) clearTimeout(e.expiry);
    this.open.delete(key);
  }

  /** The RPC open longest and when it arrived; undefined when none is open (read only, for the sidebar). */
  oldest(): { ctx: RpcContext; at: number } | undefined {
    const first = this.open.values().next();
    return first.done ? undefined : { ctx: first.value.ctx, at: first.value.at };
  }

  isOpen(ctx: { device?: string; id: number }): boolean {
    return this.open.has(keyOf(ctx));
  }

  /** An open RPC (with the device's current name), left open; undefined when it is not. */
  peek(ctx: { device?: string; id: number }): RpcContext | undefined {
    return this.open.get(keyOf(ctx))?.ctx;
  }

  /**
   * Closes an RPC for its answer and returns it (with the device's current name); undefined
   * when it was not open (answered already, or unknown).
   */
  take(ctx: { device?: string; id: number }): RpcContext | undefined {
    const key = keyOf(ctx);
    const e = this.open.get(key);
    if (!e) return undefined;
    this.close(key, e);
    return e.ctx;
  }

  /** A device's open RPCs are answered under its new name (msgs still carry the old one). */
  renamed(from: string, to: string): void {
    for (const e of this.open.values()) if (e.ctx.device === from) e.ctx = { ...e.ctx, device: to };
  }

  /** A deleted device's RPCs cannot be answered any more. */
  deleted(device: string): void {
    for (const [key, e] of [...this.open]) if (e.ctx.device === device) this.close(key, e);
  }

  clear(): void {
    for (const [key, e] of [...this.open]) this.close(key, e);
  }
}
