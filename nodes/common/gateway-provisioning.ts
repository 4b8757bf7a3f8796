// The provisioning of a gateway-config (ThingsBoard, auth "provision"): whether its settings are
// complete, what an earlier provisioning gave (Node-RED's credential store first, then the 0600
// copy in the gateway's folder: addCredentials reaches flows_cred only at the next deploy, and
// the server never provisions the same name twice), asking the server with backoff while it
// refuses, keeping what it gives, and the status to show meanwhile. gateway-config owns it.
import type { NodeAPI, NodeStatus } from "node-red";
import type { Credentials } from "../../lib/dialect/types";
import { ProvisionRefused, Provisioner, type ProvisionState } from "../../lib/session/provision";
import { parseProvisioned, readProvisionedFile, removeProvisionedFile, writeProvisionedFile, type ProvisionedRecord } from "../../lib/session/provision-file";
import type { GatewaySession, TlsOptions } from "../../lib/session/session";
import type { GatewayConfigDef, GatewayConfigNode } from "./gateway-types";
import { numberOr } from "./property";

/** What of a running gateway provisioning touches: its session, and the provisioner while it asks. */
export interface Provisionable {
  session: GatewaySession;
  provisioner?: Provisioner;
}

export class GatewayProvisioning {
  /** This gateway provisions itself (auth "provision"); older flows never do. */
  readonly enabled: boolean;
  private readonly deviceName: string;

  constructor(
    private readonly RED: NodeAPI,
    private readonly node: GatewayConfigNode,
    private readonly config: GatewayConfigDef,
    private readonly storeDir: string,
    private readonly tls: () => TlsOptions | undefined,
    private readonly refresh: () => void,
  ) {
    this.enabled = config.auth === "provision";
    this.deviceName = (config.provisionDevice ?? "").trim();
  }

  /** Why these settings cannot provision, or undefined. */
  problem(): string | undefined {
    if (!this.enabled) return undefined;
    if ((this.config.platform || "thingsboard") !== "thingsboard") return this.RED._("gateway-config.errors.provision-platform");
    // Once provisioned, the key and secret are no longer needed.
    const c = this.node.credentials;
    const unkeyed = !c?.provisionKey || !c?.provisionSecret;
    if (!this.deviceName || (unkeyed && !this.provisioned())) return this.RED._("gateway-config.errors.provision-incomplete");
    return undefined;
  }

  /** What an earlier provisioning gave under this device name. */
  provisioned(): ProvisionedRecord | undefined {
    const r = parseProvisioned(this.node.credentials?.provisioned) ?? readProvisionedFile(this.storeDir);
    return r && r.deviceName === this.deviceName ? r : undefined;
  }

  /** The credentials to connect with: what the server gave, or none yet. */
  credentials(): Credentials {
    return this.provisioned()?.credentials ?? {};
  }

  /** Provisions before the session's first connect when nothing was given yet; true when it must. */
  startIfNeeded(r: Provisionable): boolean {
    if (!this.enabled || this.provisioned()) return false;
    this.start(r);
    return true;
  }

  /** The gateway-config is deleted: the folder's copy goes with it. */
  remove(): void {
    removeProvisionedFile(this.storeDir);
  }

  status(s: ProvisionState): NodeStatus {
    if (s.state === "refused") return { fill: "red", shape: "ring", text: this.RED._("gateway-config.status.provision-refused", { status: s.status }) };
    return { fill: "yellow", shape: "ring", text: this.RED._("gateway-config.status.provisioning") };
  }

  /**
   * No credentials yet: ask the server (with backoff while it refuses), keep what it gives in the
   * credential store and the folder's copy, then connect with it. Never again after that.
   */
  private start(r: Provisionable): void {
    const { RED, node, config, deviceName } = this;
    const credentialsType = config.provisionType === "MQTT_BASIC" ? "MQTT_BASIC" : "ACCESS_TOKEN";
    const p = new Provisioner(
      { url: config.url, tls: this.tls(), protocolVersion: config.protocolVersion === "5" ? 5 : 4 },
      { key: node.credentials?.provisionKey ?? "", secret: node.credentials?.provisionSecret ?? "", deviceName, credentialsType },
      { minMs: numberOr(config.reconnectMin, 1) * 1000, maxMs: numberOr(config.reconnectMax, 60) * 1000 },
    );
    r.provisioner = p;
    let said = "";
    p.on("state", (st) => {
      // The sidebar reads the session: it says provisioning, or the server's no, too.
      r.session.waitingFor(st.state === "refused" ? `provisioning refused: ${st.status}${st.reason ? ` (${st.reason})` : ""}` : `provisioning${st.reason ? `: ${st.reason}` : ""}`);
      this.refresh();
    });
    p.on("failed", (err, retryMs) => {
      // Each distinct reason once: a refusal repeats at every attempt.
      if (err.message === said) return;
      said = err.message;
      const line = `${RED._("gateway-config.log.provision-failed", { device: deviceName, retry: Math.round(retryMs / 1000) })}: ${err.message}`;
      // The server's no is a configuration to fix; a connection that failed is only a state.
      if (err instanceof ProvisionRefused) node.error(line);
      else node.warn(line);
    });
    p.once("provisioned", (creds) => {
      p.stop();
      r.provisioner = undefined;
      const record: ProvisionedRecord = { deviceName, credentialsType, credentials: creds };
      const all = { ...(node.credentials ?? {}), provisioned: JSON.stringify(record) };
      node.credentials = all;
      void RED.nodes.addCredentials(node.id, all);
      try {
        writeProvisionedFile(this.storeDir, record);
      } catch (err) {
        node.warn(RED._("gateway-config.log.provision-copy", { dir: this.storeDir, reason: (err as Error).message }));
      }
      node.log(RED._("gateway-config.log.provisioned", { device: deviceName }));
      r.session.useCredentials(creds);
      r.session.start();
      this.refresh();
    });
    r.session.waitingFor("provisioning");
    p.start();
  }
}
