// attribute-in, two roles: outputs every shared-attribute update of the devices it watches
// (and, optionally, their current shared attributes each time a device is connected again);
// on input, asks the platform for attribute values of a device and outputs the answer.
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from "node-red";
import type { AttributeChange, AttributeQuery } from "../lib/session/listeners";
import type { AttributeScope } from "../lib/records";
import type { GatewayConfigNode } from "./common/gateway-types";
import { asSentences, useGateway, userError } from "./common/gateway-user";
import { numberOr, property } from "./common/property";

interface AttributeInDef extends NodeDef {
  gateway: string;
  /** comma-separated device names whose updates are output; blank = every device */
  devices: string;
  /** "" = output no updates (requests only) */
  updates: boolean;
  device: string;
  deviceType: string;
  /** comma-separated keys; blank = all */
  keys: string;
  scope: string;
  /** seconds */
  timeout: string;
  fetchOnConnect: boolean;
}

const TYPE = "attribute-in";

function list(text: string | undefined): string[] {
  return (text ?? "").split(",").map((s) => s.trim()).filter((s) => s.length > 0);
}

function keysOf(v: unknown, fallback: string[]): string[] {
  if (v === undefined || v === null) return fallback;
  if (typeof v === "string") return list(v);
  if (Array.isArray(v)) {
    // By index, not every(): every() skips a sparse array's holes, which would go out as no key at all.
    const keys: string[] = [];
    for (let i = 0; i < v.length; i++) {
      const k: unknown = v[i];
      if (typeof k !== "string" || k.length === 0) throw new Error(`msg.keys must be a key, a comma-separated list or an array of keys, got an array with ${k === undefined ? "a missing" : k === "" ? "an empty" : "a non-string"} key at ${i}`);
      keys.push(k);
    }
    return keys;
  }
  throw new Error(`msg.keys must be a key, a comma-separated list or an array of keys, got ${typeof v}`);
}

export = function (RED: NodeAPI): void {
  function AttributeIn(this: Node, config: AttributeInDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    // Watson IoT has no attributes (outside device management): refused at deploy, saying what to use instead.
    if ((RED.nodes.getNode(config.gateway) as GatewayConfigNode | null)?.platform === "watson") {
      const refusal = RED._(`${TYPE}.errors.watson`);
      node.status({ fill: "red", shape: "ring", text: RED._(`${TYPE}.errors.watson-short`) });
      node.error(refusal);
      node.on("input", (_msg, _send, done) => asSentences(done)(new Error(refusal)));
      return;
    }
    const gateway = useGateway(RED, node, config.gateway, TYPE);
    const device = property(RED, node, config.device, config.deviceType);
    const keys = list(config.keys);
    const scope: AttributeScope = config.scope === "client" ? "client" : "shared";
    const timeoutMs = numberOr(config.timeout, 20) * 1000;
    const watched = list(config.devices);
    let stop: (() => void) | undefined;
    let closed = false;

    if (gateway && (config.updates !== false || config.fetchOnConnect)) {
      try {
        const session = gateway.session();
        stop = session.listen({
          devices: watched.length > 0 ? watched : "all",
          onAttributes:
            config.updates !== false
              ? (c: AttributeChange) => node.send({ topic: c.device, device: c.device, payload: c.values, deleted: c.deleted, source: "update" } as unknown as NodeMessageInFlow)
              : undefined,
          // ThingsPanel asks for values (payload: the keys, [] = all); the flow answers with attribute-out.
          onAttributeQuery:
            config.updates !== false
              ? (q: AttributeQuery) => node.send({ topic: q.device ?? "", device: q.device, payload: q.keys, source: "query" } as unknown as NodeMessageInFlow)
              : undefined,
          onDeviceConnected: config.fetchOnConnect
            ? (name: string) => {
                session.requestAttributes(name, "shared", keys, timeoutMs).then(
                  (values) => node.send({ topic: name, device: name, payload: values, deleted: [], source: "fetch" } as unknown as NodeMessageInFlow),
                  (err: unknown) => closed || node.error(userError(TYPE, err).message, { topic: name, device: name, source: "fetch" } as NodeMessage),
                );
              }
            : undefined,
        });
      } catch (err) {
        node.error(userError(TYPE, err).message);
      }
    }
    node.on("close", (_removed: boolean, done: () => void) => {
      closed = true; // a fetch that fails because the session closes is no news
      stop?.();
      done();
    });

    node.on("input", (msg, send, nodeRedDone) => {
      const done = asSentences(nodeRedDone);
      try {
        if (!gateway) throw new Error(RED._(`${TYPE}.errors.no-gateway-long`));
        const m = msg as typeof msg & { device?: unknown; keys?: unknown; scope?: unknown; deleted?: unknown; source?: unknown };
        const name = device(msg) ?? m.device;
        if (typeof name !== "string" || name.trim() === "") throw new Error("no device: set one in the node or in msg.device");
        const asked = keysOf(m.keys, keys);
        const s = m.scope === undefined ? scope : m.scope;
        if (s !== "client" && s !== "shared") throw new Error(`msg.scope must be "client" or "shared", got ${JSON.stringify(s)}`);
        // The answer goes out on a copy made now: the input may be frozen, and is not ours
        // to change once this handler has returned.
        const { deleted: _deleted, ...out } = msg as typeof m;
        let ended = false;
        const end = (err?: Error): void => {
          if (ended) return;
          ended = true;
          try {
            done(err);
          } catch (thrown) {
            node.error(userError(TYPE, thrown).message); // never an unhandled rejection
          }
        };
        gateway.session().requestAttributes(name, s, asked, timeoutMs).then(
          (values) => {
            try {
              send({ ...out, device: name, payload: values, source: "request" } as typeof msg);
              end();
            } catch (err) {
              end(userError(TYPE, err));
            }
          },
          (err: unknown) => end(userError(TYPE, err)),
        );
      } catch (err) {
        done(userError(TYPE, err));
      }
    });
  }

  RED.nodes.registerType(TYPE, AttributeIn as unknown as (this: Node, def: NodeDef) => void);
};
