// What a node that uses a gateway-config has in common: finding it, registering with it (so
// it shows the session's state), and leaving it on close without dropping the session for the
// others unless this node was removed.
import type { Node, NodeAPI } from "node-red";
import type { GatewayConfigNode } from "./gateway-types";

export function useGateway(RED: NodeAPI, node: Node, configId: string | undefined, type: string): GatewayConfigNode | undefined {
  const gateway = configId ? (RED.nodes.getNode(configId) as GatewayConfigNode | null) : null;
  if (!gateway || typeof gateway.register !== "function") {
    node.status({ fill: "red", shape: "ring", text: RED._(`${type}.errors.no-gateway`) });
    node.error(RED._(`${type}.errors.no-gateway-long`));
    return undefined;
  }
  gateway.register(node);
  node.on("close", (removed: boolean, done: () => void) => {
    gateway.deregister(node, removed).then(done, done);
  });
  return gateway;
}

/** An error whose message names the node type, as a user reads it in the debug sidebar. */
export function userError(type: string, err: unknown): Error {
  const message = err instanceof Error ? err.message : String(err);
  return new Error(message.startsWith(type + ":") ? message : `${type}: ${message}`);
}

/**
 * The input handler's done, ending a failure with the error's message, a string, as the core
 * nodes do: Node-RED logs what done(err) is given, and shows an Error object in the debug
 * sidebar as a collapsed object cut after 30 characters, and to a Catch node as "Error: …".
 */
export function asSentences(done: (err?: Error) => void): (err?: Error) => void {
  // the runtime's done takes a string as well as an Error (node.error(logMessage, msg))
  const runtimeDone = done as unknown as (err?: string) => void;
  return (err) => (err ? runtimeDone(err.message) : runtimeDone());
}
