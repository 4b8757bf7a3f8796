// telemetry-out: time-series values of a device (or of many) to the platform. The msg is done
// when the server acknowledged it; while the connection is down it waits in the outbox.
import type { Node, NodeAPI, NodeDef } from "node-red";
import { telemetryUplinks } from "../lib/shapes/telemetry";
import type { TelemetryPoint } from "../lib/records";
import { asSentences, useGateway, userError } from "./common/gateway-user";
import { property } from "./common/property";

interface TelemetryOutDef extends NodeDef {
  gateway: string;
  device: string;
  deviceType: string;
  profile: string;
  profileType: string;
  autoConnect: boolean;
  /** "device" or "gateway" (the gateway device itself); absent in flows saved before it: "device". */
  target?: string;
}

const TYPE = "telemetry-out";

export = function (RED: NodeAPI): void {
  function TelemetryOut(this: Node, config: TelemetryOutDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const gateway = useGateway(RED, node, config.gateway, TYPE);
    const device = property(RED, node, config.device, config.deviceType);
    const profile = property(RED, node, config.profile, config.profileType);
    const autoConnect = config.autoConnect !== false;
    // Deploy time: the options of every msg that names no profile of its own (no object per msg).
    const noProfile = { autoConnect, profile: undefined };

    node.on("input", (msg, send, done) => {
      try {
        if (!gateway) throw new Error(RED._(`${TYPE}.errors.no-gateway-long`));
        const m = msg as typeof msg & { device?: unknown; ts?: unknown; profile?: unknown; deviceId?: unknown; deviceType?: unknown };
        const ts = m.ts === undefined ? Date.now() : m.ts;
        if (typeof ts !== "number" || !Number.isFinite(ts)) throw new Error(`msg.ts must be a number of milliseconds since 1970, got ${typeof ts}`);
        if (config.target === "gateway") {
          const own = telemetryUplinks(msg.payload, "", ts);
          if (typeof own === "string") throw new Error(own);
          const points = (own[0] as { points: TelemetryPoint[] }).points;
          return gateway.session().submit([{ kind: "gatewayTelemetry", points }], {}, done, TYPE);
        }
        const given = device(msg) ?? m.device ?? m.deviceId; // msg.deviceId: node-red-contrib-ibm-watson-iot's msgs
        const name = given === "" || given === null ? undefined : given; // none: a multi-device payload
        if (name !== undefined && typeof name !== "string") throw new Error(`device name must be a non-empty string, got ${typeof name}`);
        const uplinks = telemetryUplinks(msg.payload, name as string | undefined, ts);
        if (typeof uplinks === "string") throw new Error(uplinks);
        const p = profile(msg) ?? m.profile ?? m.deviceType;
        // The session calls Node-RED's done once, a failure as its sentence (a string) prefixed with the node
        // type, as userError and asSentences do: no wrapper per msg held until its PUBACK.
        gateway.session().submit(uplinks, p === undefined ? noProfile : { autoConnect, profile: p as string }, done, TYPE);
      } catch (err) {
        asSentences(done)(userError(TYPE, err));
      }
    });
  }

  RED.nodes.registerType(TYPE, TelemetryOut as unknown as (this: Node, def: NodeDef) => void);
};
