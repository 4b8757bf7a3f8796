// rpc-response: answers the RPC a msg from rpc-in carries (msg.rpc) with msg.payload. Done on
// the server's PUBACK; a msg without msg.rpc, or an RPC answered already, is a catchable error.
import type { Node, NodeAPI, NodeDef } from "node-red";
import type { GatewayConfigNode } from "./common/gateway-types";
import { asSentences, useGateway, userError } from "./common/gateway-user";

interface RpcResponseDef extends NodeDef {
  gateway: string;
}

interface RpcOnMsg {
  device?: unknown;
  id?: unknown;
  method?: unknown;
  gateway?: unknown;
}

const TYPE = "rpc-response";

export = function (RED: NodeAPI): void {
  function RpcResponse(this: Node, config: RpcResponseDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    // The gateway is optional here: msg.rpc names the one the RPC came from.
    const own = config.gateway ? useGateway(RED, node, config.gateway, TYPE) : undefined;

    node.on("input", (msg, send, nodeRedDone) => {
      const done = asSentences(nodeRedDone);
      try {
        const rpc = (msg as typeof msg & { rpc?: RpcOnMsg }).rpc;
        if (typeof rpc !== "object" || rpc === null || typeof rpc.id !== "number") {
          throw new Error("msg.rpc is missing: answer the msg that came out of an rpc-in node (keep its msg.rpc)");
        }
        if (rpc.device !== undefined && (typeof rpc.device !== "string" || rpc.device === "")) throw new Error("msg.rpc.device must be a device name");
        const gateway = own ?? (typeof rpc.gateway === "string" ? (RED.nodes.getNode(rpc.gateway) as GatewayConfigNode | null) : null);
        if (!gateway || typeof gateway.session !== "function") throw new Error("no gateway: msg.rpc.gateway names no gateway-config, and none is selected in the node");
        const ctx = { device: rpc.device as string | undefined, id: rpc.id, method: typeof rpc.method === "string" ? rpc.method : undefined };
        gateway.session().answerRpc(ctx, msg.payload).then(
          () => done(),
          (err: unknown) => done(userError(TYPE, err)),
        );
      } catch (err) {
        done(userError(TYPE, err));
      }
    });
  }

  RED.nodes.registerType(TYPE, RpcResponse as unknown as (this: Node, def: NodeDef) => void);
};
