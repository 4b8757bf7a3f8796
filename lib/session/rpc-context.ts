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

export function describeRpc(ctx: { device?: string; id: number; method?: string }): string {
  const method = ctx.method ? `"${ctx.method}" ` : "";
  return `RPC ${method}${ctx.id} of ${ctx.device === undefined ? "the gateway" : `"${ctx.device}"`}`;
}

/** The uplink that answers an RPC. */
export function answerUplink(ctx: { device?: string; id: number }, data: unknown): Uplink {
  return ctx.device === undefined ? { kind: "gatewayRpcResponse", id: ctx.id, data } : { kind: "rpcResponse", device: ctx.device, id: ctx.id, data };
}

/** What is wrong with an answer's data (it must serialise to JSON); null when it can be sent. */
export function answerProblem(data: unknown): string | null {
  try {
    JSON.stringify(data);
    return null;
  } catch (err) {
    return `the answer cannot be sent as JSON: ${err instanceof Error ? err.message : String(err)}`;
  }
}

export class OpenRpcs {
  private readonly open = new Map<string, { ctx: RpcContext; timer?: NodeJS.Timeout }>();

  /**
   * @param autoAnswer called when an RPC's auto-answer time has passed and it is still open;
   *   it is closed by then.
   */
  constructor(private readonly autoAnswer: (ctx: RpcContext, afterMs: number) => void) {}

  get size(): number {
    return this.open.size;
  }

  /** Opens an RPC (again, if the platform repeats an id); answered automatically after `autoAnswerMs`. */
  add(ctx: RpcContext, autoAnswerMs?: number): void {
    this.take(ctx);
    const entry: { ctx: RpcContext; timer?: NodeJS.Timeout } = { ctx };
    if (autoAnswerMs !== undefined && autoAnswerMs > 0) {
      entry.timer = setTimeout(() => {
        if (this.open.get(keyOf(ctx)) !== entry) return;
        this.open.delete(keyOf(ctx));
        this.autoAnswer(entry.ctx, autoAnswerMs);
      }, autoAnswerMs);
    }
    this.open.set(keyOf(ctx), entry);
  }

  isOpen(ctx: { device?: string; id: number }): boolean {
    return this.open.has(keyOf(ctx));
  }

  /**
   * Closes an RPC for its answer and returns it (with the device's current name); undefined
   * when it was not open (answered already, or unknown).
   */
  take(ctx: { device?: string; id: number }): RpcContext | undefined {
    const key = keyOf(ctx);
    const e = this.open.get(key);
    if (!e) return undefined;
    if (e.timer) clearTimeout(e.timer);
    this.open.delete(key);
    return e.ctx;
  }

  /** A device's open RPCs are answered under its new name (msgs still carry the old one). */
  renamed(from: string, to: string): void {
    for (const e of this.open.values()) if (e.ctx.device === from) e.ctx = { ...e.ctx, device: to };
  }

  clear(): void {
    for (const e of this.open.values()) if (e.timer) clearTimeout(e.timer);
    this.open.clear();
  }
}
