// rpc-request: the flow asks the server (client-side RPC of the gateway device itself, ThingsBoard's
// v1/devices/me/rpc/request/{id}) and gets its answer on the output. No answer within the timeout
// ends the msg with a catchable error. A platform without client-side RPC refuses it at deploy.
import type { Node, NodeAPI, NodeDef } from "node-red";
import { asSentences, useGateway, userError } from "./common/gateway-user";
import { numberOr, property } from "./common/property";

interface RpcRequestDef extends NodeDef {
  gateway: string;
  /** blank = msg.method, else msg.topic */
  method: string;
  /** where the params come from (typed input; default msg.payload) */
  params: string;
  paramsType: string;
  /** seconds; blank = 10 */
  timeout: string;
}

const TYPE = "rpc-request";
const DEFAULT_TIMEOUT_S = 10;

export = function (RED: NodeAPI): void {
  function RpcRequest(this: Node, config: RpcRequestDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const gateway = useGateway(RED, node, config.gateway, TYPE);
    if (!gateway) return;
    let refused: string | undefined;
    try {
      const session = gateway.session();
      if (!session.opts.dialect.hasGatewayRpc) refused = `${TYPE}: the platform ${session.opts.dialect.platform} has no client-side RPC of the gateway device (ThingsBoard has): this node cannot send anything there`;
    } catch (err) {
      refused = userError(TYPE, err).message;
    }
    if (refused) {
      node.error(refused);
      node.status({ fill: "red", shape: "ring", text: RED._(`${TYPE}.status.unsupported`) });
    }
    const fixedMethod = (config.method ?? "").trim();
    const params = property(RED, node, config.params === undefined ? "payload" : config.params, config.paramsType || "msg");
    const timeoutS = numberOr(config.timeout, DEFAULT_TIMEOUT_S);
    const timeoutMs = (timeoutS > 0 ? timeoutS : DEFAULT_TIMEOUT_S) * 1000;

    node.on("input", (msg, send, nodeRedDone) => {
      const done = asSentences(nodeRedDone);
      try {
        if (refused) throw new Error(refused);
        const m = msg as typeof msg & { method?: unknown };
        const method = fixedMethod || (m.method !== undefined ? m.method : msg.topic);
        if (typeof method !== "string" || method.trim() === "") {
          throw new Error(`the method is missing: set it in the node, or send it in msg.method (or msg.topic), got ${method === undefined ? "none" : JSON.stringify(method)}`);
        }
        const p = params(msg);
        gateway.session().gatewayRpc(method, p === undefined ? undefined : p, timeoutMs).then(
          (answer) => {
            msg.payload = answer;
            send(msg);
            done();
          },
          (err: unknown) => done(userError(TYPE, err)),
        );
      } catch (err) {
        done(userError(TYPE, err));
      }
    });
  }

  RED.nodes.registerType(TYPE, RpcRequest as unknown as (this: Node, def: NodeDef) => void);
};
