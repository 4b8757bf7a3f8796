// How a session's state looks on every node that uses it (the core mqtt nodes' convention).
import type { NodeStatus } from "node-red";
import type { SessionState } from "../../lib/records";

export type Translate = (key: string) => string;

export function statusOf(s: SessionState, t: Translate): NodeStatus {
  switch (s.state) {
    case "connected":
      return { fill: "green", shape: "dot", text: t("gateway-config.status.connected") };
    case "connecting":
      return { fill: "yellow", shape: "ring", text: s.reason ? `${t("gateway-config.status.connecting")}: ${s.reason}` : t("gateway-config.status.connecting") };
    case "disconnected":
      return { fill: "red", shape: "ring", text: `${t("gateway-config.status.disconnected")}: ${s.reason}` };
  }
}
