// claim: opens the claiming window of a device, so that a customer can claim it with the secret
// key within the duration. Claims of several devices within the batch window share one publish.
import type { Node, NodeAPI, NodeDef } from "node-red";
import { asSentences, useGateway, userError } from "./common/gateway-user";
import { property } from "./common/property";

interface ClaimDef extends NodeDef {
  gateway: string;
  device: string;
  deviceType: string;
  secretKey: string;
  secretKeyType: string;
  duration: string;
  durationType: string;
}

const TYPE = "claim";

function blank(v: unknown): boolean {
  return v === undefined || v === null || v === "";
}

export = function (RED: NodeAPI): void {
  function Claim(this: Node, config: ClaimDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const gateway = useGateway(RED, node, config.gateway, TYPE);
    const device = property(RED, node, config.device, config.deviceType);
    // A blank field means "not given" whatever its type (a blank number would read as 0).
    const none = (): undefined => undefined;
    const secretKey = blank(config.secretKey) ? none : property(RED, node, config.secretKey, config.secretKeyType);
    const duration = blank(config.duration) ? none : property(RED, node, config.duration, config.durationType);

    node.on("input", (msg, send, nodeRedDone) => {
      const done = asSentences(nodeRedDone);
      try {
        if (!gateway) throw new Error(RED._(`${TYPE}.errors.no-gateway-long`));
        const m = msg as typeof msg & { device?: unknown; secretKey?: unknown; durationMs?: unknown };
        const name = device(msg) ?? m.device;
        if (blank(name)) throw new Error("no device: set one in the node or in msg.device");
        const key = secretKey(msg) ?? m.secretKey;
        if (!blank(key) && typeof key !== "string") throw new Error(`the secret key must be a string, got ${typeof key}`);
        const given = duration(msg) ?? m.durationMs;
        const ms = blank(given) ? undefined : typeof given === "string" ? Number(given) : given;
        if (ms !== undefined && typeof ms !== "number") throw new Error(`the duration must be a number of ms, got ${typeof ms}`);
        const uplink = { kind: "claim" as const, device: name as string, secretKey: blank(key) ? undefined : (key as string), durationMs: ms };
        gateway.session().submit([uplink], {}, (err) => (err ? done(userError(TYPE, err)) : done()));
      } catch (err) {
        done(userError(TYPE, err));
      }
    });
  }

  RED.nodes.registerType(TYPE, Claim as unknown as (this: Node, def: NodeDef) => void);
};
