// The service RPCs of the gateway device that the package answers itself, as the Python IoT
// Gateway does for ThingsBoard's RPC debug terminal: the same method names, and its answer shape
// {"code": 200, "resp": …}. Any other RPC to the gateway goes on to the rpc-in nodes that watch it.
//
// Of the Python gateway's set, these make sense inside Node-RED: gateway_ping, gateway_devices,
// gateway_stats, gateway_version. Left out on purpose: gateway_update (it would pip-upgrade the
// Python gateway; here the palette manager or npm updates the package), gateway_restart and
// gateway_reboot (they would restart the Node-RED process or the machine, taking every other
// flow down with it: a flow that wants it can do so from an rpc-in), and the remote shell (a
// shell on the host over MQTT). gateway_device_renamed / gateway_device_deleted are the
// platform's notices, answered by the session already.
import type { Downlink, Uplink, Values } from "../records";

export const SERVICE_METHODS = ["gateway_ping", "gateway_devices", "gateway_stats", "gateway_version"] as const;
export type ServiceMethod = (typeof SERVICE_METHODS)[number];

export interface ServiceSource {
  /** The devices announced in this session, with their profile. */
  devices(): Array<{ name: string; profile?: string }>;
  /** Every statistics figure since the session started. */
  stats(): Values;
  /** What runs: this package's version, Node-RED's, Node.js's. */
  version(): Record<string, string>;
  warn(message: string): void;
}

export class ServiceRpcs {
  private readonly methods: ReadonlySet<string> = new Set(SERVICE_METHODS);

  constructor(private readonly src: ServiceSource) {}

  handles(method: string): boolean {
    return this.methods.has(method);
  }

  /** The answer's data for a service method (the Python gateway's shape). */
  data(method: ServiceMethod): unknown {
    switch (method) {
      case "gateway_ping":
        return { code: 200, resp: "pong" };
      case "gateway_devices": {
        const resp: Record<string, string> = {};
        for (const d of this.src.devices()) resp[d.name] = d.profile ?? "default";
        return { code: 200, resp };
      }
      case "gateway_stats":
        return { code: 200, resp: this.src.stats() };
      case "gateway_version":
        return { code: 200, resp: this.src.version() };
    }
  }

  /** Answers an RPC to the gateway device with one of the service methods. */
  answer(d: Downlink & { kind: "gatewayRpcRequest" }, send: (u: Uplink) => Promise<void>): void {
    let data: unknown;
    try {
      data = this.data(d.method as ServiceMethod);
    } catch (err) {
      data = { code: 500, resp: `${d.method} failed: ${(err as Error).message}` };
    }
    send({ kind: "gatewayRpcResponse", id: d.id, data }).catch((err: Error) => this.src.warn(`answering the service RPC "${d.method}" failed: ${err.message}`));
  }
}
