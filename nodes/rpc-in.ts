// rpc-in: the platform's RPCs for the devices (and methods) this node watches, as msgs. The msg
// carries msg.rpc, which rpc-response needs to answer. Optionally the session answers with an
// error when the flow has not within a time, so the caller learns why instead of timing out.
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from "node-red";
import type { RpcCall } from "../lib/session/listeners";
import { useGateway } from "./common/gateway-user";
import { numberOr } from "./common/property";

interface RpcInDef extends NodeDef {
  gateway: string;
  /** "devices" (sub-devices), "gateway" (the gateway device itself), or "both" */
  target: string;
  /** comma-separated device names; blank = every sub-device */
  devices: string;
  /** comma-separated methods; blank = every method */
  methods: string;
  /** ms; blank or 0 = never answer for the flow */
  autoAnswer: string;
  /** seconds an RPC stays open for the flow's answer; missing (a flow saved before it existed) or blank = 60 */
  timeout?: string;
}

/** ThingsBoard's own default RPC timeout: its caller has given up by then. */
const DEFAULT_TIMEOUT_S = 60;

const TYPE = "rpc-in";

function list(text: string | undefined): string[] {
  return (text ?? "").split(",").map((s) => s.trim()).filter((s) => s.length > 0);
}

export = function (RED: NodeAPI): void {
  function RpcIn(this: Node, config: RpcInDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const gateway = useGateway(RED, node, config.gateway, TYPE);
    if (!gateway) return;
    const target = config.target || "devices";
    const names = list(config.devices);
    const autoAnswerMs = numberOr(config.autoAnswer, 0);
    const timeoutS = numberOr(config.timeout, DEFAULT_TIMEOUT_S);
    const timeoutMs = (timeoutS > 0 ? timeoutS : DEFAULT_TIMEOUT_S) * 1000;
    let stop: (() => void) | undefined;
    try {
      stop = gateway.session().listen({
        devices: target === "gateway" ? [] : names.length > 0 ? names : "all",
        gateway: target !== "devices",
        methods: list(config.methods),
        autoAnswerMs: autoAnswerMs > 0 ? autoAnswerMs : undefined,
        timeoutMs,
        onRpc(call: RpcCall) {
          const msg = {
            ...call.extra,
            topic: call.method,
            device: call.device,
            method: call.method,
            payload: call.params,
            rpc: { device: call.device, id: call.id, method: call.method, gateway: config.gateway },
          };
          node.send(msg as unknown as NodeMessageInFlow);
        },
      });
    } catch (err) {
      node.error(`${TYPE}: ${err instanceof Error ? err.message : String(err)}`);
    }
    node.on("close", (_removed: boolean, done: () => void) => {
      stop?.();
      done();
    });
  }

  RED.nodes.registerType(TYPE, RpcIn as unknown as (this: Node, def: NodeDef) => void);
};
