// event-out: an event (a method name and its parameters) of a device or of the gateway itself, to
// the platform. Done when the platform acknowledged it (ThingsPanel acks each event by message id);
// a platform without events (ThingsBoard) refuses it with a catchable error.
import type { Node, NodeAPI, NodeDef } from "node-red";
import type { Uplink } from "../lib/records";
import { asSentences, useGateway, userError } from "./common/gateway-user";
import { property } from "./common/property";

interface EventOutDef extends NodeDef {
  gateway: string;
  /** "device" (a sub-device, by msg.device or the node's setting) or "gateway" (the gateway itself); absent = "device" */
  target: string;
  device: string;
  deviceType: string;
  method: string;
  methodType: string;
}

const TYPE = "event-out";

export = function (RED: NodeAPI): void {
  function EventOut(this: Node, config: EventOutDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const gateway = useGateway(RED, node, config.gateway, TYPE);
    const ofGateway = config.target === "gateway";
    const device = property(RED, node, config.device, config.deviceType || "msg");
    const method = property(RED, node, config.method, config.methodType || "msg");

    node.on("input", (msg, send, nodeRedDone) => {
      const done = asSentences(nodeRedDone);
      try {
        if (!gateway) throw new Error(`${TYPE}: no gateway-config is selected`);
        // msg.eventType / msg.event, msg.deviceId, msg.deviceType: the msgs of node-red-contrib-ibm-watson-iot.
        const m = msg as typeof msg & { device?: unknown; method?: unknown; eventType?: unknown; event?: unknown; deviceId?: unknown; deviceType?: unknown };
        const name = (method(msg) ?? m.method ?? m.eventType ?? m.event ?? msg.topic) as unknown;
        if (typeof name !== "string" || name === "") throw new Error("no event method: set one in the node, or in msg.method (or msg.topic)");
        let uplink: Uplink;
        if (ofGateway) {
          uplink = { kind: "gatewayEvent", method: name, params: msg.payload };
        } else {
          const d = device(msg) ?? m.device ?? m.deviceId;
          if (typeof d !== "string" || d === "") throw new Error("no device: set one in the node or in msg.device (or target the gateway itself)");
          uplink = { kind: "event", device: d, method: name, params: msg.payload };
        }
        const profile = typeof m.deviceType === "string" && m.deviceType !== "" && !ofGateway ? m.deviceType : undefined;
        gateway.session().submit([uplink], { profile }, (err) => (err ? done(userError(TYPE, err)) : done()));
      } catch (err) {
        done(userError(TYPE, err));
      }
    });
  }

  RED.nodes.registerType(TYPE, EventOut as unknown as (this: Node, def: NodeDef) => void);
};
