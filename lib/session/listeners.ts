// Who wants which downlinks: each listener names the devices it watches ("all" or names, which
// follow the platform's renames), optionally the RPC methods, and the events it handles. A
// throwing handler is reported as a warning: one bad listener must not stop the dispatch.
import type { Values } from "../records";

/** An RPC from the platform; `device` is undefined for an RPC to the gateway device itself. */
export interface RpcCall {
  device?: string;
  id: number;
  method: string;
  params: unknown;
  /** The platform's own fields for the msg (Watson: deviceType, format). */
  extra?: Record<string, string>;
}

export interface AttributeChange {
  device: string;
  values: Values;
  deleted: string[];
}

/** The platform asks for attribute values; `device` undefined = of the gateway itself; no keys = all. */
export interface AttributeQuery {
  device?: string;
  keys: string[];
}

export interface DownlinkListener {
  /** The sub-devices watched: "all", or their names. */
  devices: "all" | readonly string[];
  /** Also receive RPCs addressed to the gateway device itself. */
  gateway?: boolean;
  /** RPC methods wanted; none or empty = every method. */
  methods?: readonly string[];
  /** Answer an RPC this listener received with an error when the flow has not within this time. */
  autoAnswerMs?: number;
  /** How long an RPC it received stays open for the flow's answer (default: the session's). */
  timeoutMs?: number;
  onRpc?(call: RpcCall): void;
  onAttributes?(change: AttributeChange): void;
  /** The platform asks for attribute values (ThingsPanel); the flow answers with attribute-out. */
  onAttributeQuery?(query: AttributeQuery): void;
  /** A watched device was announced to the platform (first time, or again after a reconnect). */
  onDeviceConnected?(device: string): void;
  onDeviceRenamed?(from: string, to: string): void;
  onDeviceDeleted?(device: string): void;
}

interface Entry {
  listener: DownlinkListener;
  /** undefined = every device */
  devices: Set<string> | undefined;
  methods: Set<string> | undefined;
}

export class Listeners {
  private readonly entries = new Set<Entry>();

  /** @param current the platform's current name of a device the flow names (renames followed) */
  constructor(
    private readonly warn: (message: string) => void,
    private readonly current: (name: string) => string = (name) => name,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** Registers a listener; the returned function removes it. */
  add(listener: DownlinkListener): () => void {
    const e: Entry = {
      listener,
      devices: listener.devices === "all" ? undefined : new Set(listener.devices.map((d) => this.current(d))),
      methods: listener.methods && listener.methods.length > 0 ? new Set(listener.methods) : undefined,
    };
    this.entries.add(e);
    return () => void this.entries.delete(e);
  }

  watches(listener: DownlinkListener, device: string): boolean {
    for (const e of this.entries) if (e.listener === listener) return !e.devices || e.devices.has(device);
    return false;
  }

  /** The listeners an RPC goes to. */
  forRpc(call: RpcCall): DownlinkListener[] {
    const out: DownlinkListener[] = [];
    for (const e of this.entries) {
      if (!e.listener.onRpc) continue;
      const who = call.device === undefined ? e.listener.gateway === true : !e.devices || e.devices.has(call.device);
      if (who && (!e.methods || e.methods.has(call.method))) out.push(e.listener);
    }
    return out;
  }

  rpc(to: DownlinkListener[], call: RpcCall): void {
    for (const l of to) this.safely(() => l.onRpc?.({ ...call }), `RPC "${call.method}"`);
  }

  attributes(change: AttributeChange): void {
    for (const e of this.matching(change.device)) {
      if (e.listener.onAttributes) this.safely(() => e.listener.onAttributes?.({ ...change, values: { ...change.values }, deleted: [...change.deleted] }), "an attribute update");
    }
  }

  /** Delivers a query to the listeners that watch its device (the gateway's own: those that watch all); returns how many. */
  attributeQuery(q: AttributeQuery): number {
    let n = 0;
    for (const e of [...this.entries]) {
      if (!e.listener.onAttributeQuery || (q.device === undefined ? e.devices !== undefined : e.devices !== undefined && !e.devices.has(q.device))) continue;
      n++;
      this.safely(() => e.listener.onAttributeQuery?.({ device: q.device, keys: [...q.keys] }), "an attribute query");
    }
    return n;
  }

  deviceConnected(device: string): void {
    for (const e of this.matching(device)) if (e.listener.onDeviceConnected) this.safely(() => e.listener.onDeviceConnected?.(device), "a device connect");
  }

  /** Watchers of `from` watch `to` from now on, and hear of it. */
  renamed(from: string, to: string): void {
    for (const e of this.entries) {
      if (e.devices?.has(from)) {
        e.devices.delete(from);
        e.devices.add(to);
      }
      if (!e.devices || e.devices.has(to)) this.safely(() => e.listener.onDeviceRenamed?.(from, to), "a device rename");
    }
  }

  deleted(device: string): void {
    for (const e of this.matching(device)) this.safely(() => e.listener.onDeviceDeleted?.(device), "a device delete");
  }

  clear(): void {
    this.entries.clear();
  }

  private matching(device: string): Entry[] {
    return [...this.entries].filter((e) => !e.devices || e.devices.has(device));
  }

  private safely(fn: () => void, what: string): void {
    try {
      fn();
    } catch (err) {
      this.warn(`a listener failed on ${what}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}
