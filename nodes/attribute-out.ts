// attribute-out: client-side attributes of a device to the platform. Updates of many devices
// within the gateway's batch window share one publish; the msg is done on the server's PUBACK.
import type { Node, NodeAPI, NodeDef } from "node-red";
import { kindOf } from "../lib/shapes/telemetry";
import type { Values } from "../lib/records";
import type { GatewayConfigNode } from "./common/gateway-types";
import { asSentences, useGateway, userError } from "./common/gateway-user";
import { property } from "./common/property";

interface AttributeOutDef extends NodeDef {
  gateway: string;
  device: string;
  deviceType: string;
  profile: string;
  profileType: string;
  autoConnect: boolean;
  /** "device" or "gateway" (the gateway device itself); absent in flows saved before it: "device". */
  target?: string;
}

const TYPE = "attribute-out";

export = function (RED: NodeAPI): void {
  function AttributeOut(this: Node, config: AttributeOutDef): void {
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
    const profile = property(RED, node, config.profile, config.profileType);
    const autoConnect = config.autoConnect !== false;

    node.on("input", (msg, send, nodeRedDone) => {
      const done = asSentences(nodeRedDone);
      try {
        if (!gateway) throw new Error(RED._(`${TYPE}.errors.no-gateway-long`));
        const m = msg as typeof msg & { device?: unknown; profile?: unknown };
        if (config.target === "gateway") {
          const kind = kindOf(msg.payload);
          if (kind !== "object") throw new Error(`msg.payload must be an object of {key: value}, got ${kind}`);
          return gateway.session().submit([{ kind: "gatewayAttributes", values: msg.payload as Values }], {}, (err) => (err ? done(userError(TYPE, err)) : done()));
        }
        const name = device(msg) ?? m.device;
        if (name === undefined || name === "" || name === null) throw new Error("no device: set one in the node or in msg.device");
        const kind = kindOf(msg.payload);
        if (kind !== "object") throw new Error(`msg.payload must be an object of {key: value}, got ${kind}`);
        const uplink = { kind: "attributes" as const, device: name as string, values: msg.payload as Values };
        const options = { autoConnect, profile: (profile(msg) ?? m.profile) as string | undefined };
        gateway.session().submit([uplink], options, (err) => (err ? done(userError(TYPE, err)) : done()));
      } catch (err) {
        done(userError(TYPE, err));
      }
    });
  }

  RED.nodes.registerType(TYPE, AttributeOut as unknown as (this: Node, def: NodeDef) => void);
};
