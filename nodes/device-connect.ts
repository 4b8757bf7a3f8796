// device-connect: tells the platform a device is connected to (or disconnected from) the
// gateway, and passes the msg on once the server acknowledged it.
import type { Node, NodeAPI, NodeDef } from "node-red";
import { asSentences, useGateway, userError } from "./common/gateway-user";
import { property } from "./common/property";
import type { Values } from "../lib/records";

interface DeviceConnectDef extends NodeDef {
  gateway: string;
  device: string;
  deviceType: string;
  profile: string;
  profileType: string;
  action: string;
}

const TYPE = "device-connect";

export = function (RED: NodeAPI): void {
  function DeviceConnect(this: Node, config: DeviceConnectDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const gateway = useGateway(RED, node, config.gateway, TYPE);
    const device = property(RED, node, config.device, config.deviceType);
    const profile = property(RED, node, config.profile, config.profileType);

    node.on("input", (msg, send, nodeRedDone) => {
      const done = asSentences(nodeRedDone);
      try {
        if (!gateway) throw new Error(RED._(`${TYPE}.errors.no-gateway-long`));
        const m = msg as typeof msg & { device?: unknown; profile?: unknown; action?: unknown; metadata?: unknown; deviceInfo?: unknown };
        const name = device(msg) ?? m.device;
        if (typeof name !== "string" || name.trim() === "") throw new Error("no device: set one in the node or in msg.device");
        const action = m.action ?? config.action ?? "connect";
        const session = gateway.session();
        let acked: Promise<void>;
        if (action === "connect") {
          const p = profile(msg) ?? m.profile;
          if (p !== undefined && (typeof p !== "string" || p === "")) throw new Error(`device profile must be a non-empty string, got ${typeof p}`);
          // Watson IoT's managed gateway: msg.metadata and msg.deviceInfo go in the device's manage request.
          const details = { ...(m.metadata === undefined ? {} : { metadata: m.metadata as Values }), ...(m.deviceInfo === undefined ? {} : { deviceInfo: m.deviceInfo as Values }) };
          acked = session.connectDevice(name, p as string | undefined, details);
        } else if (action === "disconnect") {
          acked = session.disconnectDevice(name);
        } else {
          throw new Error(`msg.action must be "connect" or "disconnect", got ${JSON.stringify(action)}`);
        }
        acked.then(
          () => {
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

  RED.nodes.registerType(TYPE, DeviceConnect as unknown as (this: Node, def: NodeDef) => void);
};
