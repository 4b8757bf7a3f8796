// Routes the platform's events to the listeners that watch them, keeps the RPCs the platform
// waits on (so each gets exactly one answer), and answers the platform's notices about devices
// (renamed, deleted) itself: they are addressed to the gateway device, not to the flow.
import { Listeners, type RpcCall } from "./listeners";
import { answerProblem, answerUplink, describeRpc, OpenRpcs, RpcAnswerError, type RpcContext } from "./rpc-context";
import type { Downlink, Uplink } from "../records";

export interface RouterHost {
  send(uplink: Uplink): Promise<void>;
  warn(message: string): void;
  /** The platform's current name of a device the flow names (after the platform renamed it). */
  current(name: string): string;
  /** Why the platform cannot take this uplink (the dialect's rules), or null. */
  problem(uplink: Uplink): string | null;
}

export interface RpcLimits {
  /** How long an RPC waits for the flow's answer (default 60 s, ThingsBoard's default RPC timeout). */
  timeoutMs?: number;
  /** RPCs waiting at most (default 1000): the oldest is closed first. */
  max?: number;
}

export const DEFAULT_RPC_TIMEOUT_MS = 60000;
export const DEFAULT_MAX_OPEN_RPCS = 1000;

export class DownlinkRouter {
  readonly listeners: Listeners;
  readonly rpcs: OpenRpcs;

  private readonly timeoutMs: number;

  constructor(private readonly host: RouterHost, limits: RpcLimits = {}) {
    this.listeners = new Listeners((m) => host.warn(m), (name) => host.current(name));
    this.timeoutMs = limits.timeoutMs ?? DEFAULT_RPC_TIMEOUT_MS;
    this.rpcs = new OpenRpcs((ctx, ms) => this.autoAnswer(ctx, ms), {
      max: limits.max ?? DEFAULT_MAX_OPEN_RPCS,
      expired: (ctx, why) => host.warn(`${describeRpc(ctx, false)} ${why}: it is closed, and a later answer is refused`),
    });
  }

  /** Handles the downlinks meant for listeners; returns false for the others. */
  route(d: Downlink): boolean {
    switch (d.kind) {
      case "rpcRequest":
        this.rpc({ device: d.device, id: d.id, method: d.method, params: d.params, extra: d.extra }, d.unwatched);
        return true;
      case "gatewayRpcRequest":
        this.rpc({ id: d.id, method: d.method, params: d.params, extra: d.extra }, d.unwatched);
        return true;
      case "attributeUpdate":
        this.listeners.attributes({ device: d.device, values: d.values, deleted: d.deleted });
        return true;
      case "attributeQuery":
        if (this.listeners.attributeQuery({ device: d.device, keys: d.keys }) === 0) {
          this.host.warn(`no attribute-in node watches ${d.device === undefined ? "the gateway" : `"${d.device}"`}: the platform's attribute query goes unanswered`);
        }
        return true;
      case "deviceRenamed":
        this.rpcs.renamed(d.from, d.to);
        this.listeners.renamed(d.from, d.to);
        this.notice(d.id, `renamed "${d.from}" to "${d.to}"`);
        return true;
      case "deviceDeleted":
        this.listeners.deleted(d.device);
        this.rpcs.deleted(d.device);
        this.notice(d.id, `deleted "${d.device}"`);
        return true;
      default:
        return false;
    }
  }

  /** Answers an open RPC; refused (RpcAnswerError) when it is not open or the data is not JSON. */
  answer(ctx: { device?: string; id: number; method?: string }, data: unknown): Promise<void> {
    const problem = answerProblem(data);
    if (problem) return Promise.reject(new RpcAnswerError(`${describeRpc(ctx)}: ${problem}`));
    const open = this.rpcs.peek(ctx);
    if (!open) return Promise.reject(new RpcAnswerError(`${describeRpc(ctx)} is not open: it was answered already (by the flow, or automatically after its time ran out), or the gateway session restarted since`));
    const uplink = answerUplink(open, data === undefined ? null : data);
    // An answer the platform's rules refuse leaves the RPC open: the flow may still answer it right.
    const invalid = this.host.problem(uplink);
    if (invalid) return Promise.reject(new RpcAnswerError(`${describeRpc(ctx)}: ${invalid}`));
    this.rpcs.take(ctx);
    return this.host.send(uplink);
  }

  deviceConnected(device: string): void {
    this.listeners.deviceConnected(device);
  }

  /** The session closed: every open RPC is forgotten (the platform's caller times out). */
  close(): void {
    this.rpcs.clear();
  }

  /** `unwatched`: the answer sent when no listener watches it (none: the caller gets no answer). */
  private rpc(call: RpcCall, unwatched?: unknown): void {
    const to = this.listeners.forRpc(call);
    if (to.length === 0 && unwatched !== undefined) {
      this.host.send(answerUplink(call, unwatched)).catch((err: Error) => this.host.warn(`the automatic answer to ${describeRpc(call)} failed: ${err.message}`));
      return;
    }
    if (to.length === 0) {
      this.host.warn(`no rpc-in node watches ${describeRpc(call)}: the platform's caller gets no answer`);
      return;
    }
    const times = to.map((l) => l.autoAnswerMs ?? 0).filter((ms) => ms > 0);
    // Open as long as the most patient listener waits: any of them may answer.
    const expiry = Math.max(...to.map((l) => (l.timeoutMs !== undefined && l.timeoutMs > 0 ? l.timeoutMs : this.timeoutMs)));
    const ctx: RpcContext = { device: call.device, id: call.id, method: call.method };
    this.rpcs.add(ctx, times.length > 0 ? Math.min(...times) : undefined, expiry);
    this.listeners.rpc(to, call);
  }

  private autoAnswer(ctx: RpcContext, afterMs: number): void {
    const error = `no answer from the flow within ${afterMs} ms`;
    this.host.warn(`answered ${describeRpc(ctx)} with an error: ${error}`);
    this.host.send(answerUplink(ctx, { error })).catch((err: Error) => this.host.warn(`the automatic answer to ${describeRpc(ctx)} failed: ${err.message}`));
  }

  private notice(id: number, what: string): void {
    this.host.send({ kind: "gatewayRpcResponse", id, data: { success: true } }).catch((err: Error) => this.host.warn(`answering the platform that it ${what} failed: ${err.message}`));
  }
}
