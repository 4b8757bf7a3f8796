// The gateway-config node as the nodes that use it see it.
import type { Node, NodeDef } from "node-red";
import type { OverflowPolicy } from "../../lib/outbox/types";
import type { OutboxStats } from "../../lib/outbox/stats";
import type { Values } from "../../lib/records";
import type { GatewaySession } from "../../lib/session/session";

export interface GatewayConfigDef extends NodeDef {
  platform: string;
  url: string;
  auth: "token" | "basic" | "x509" | "provision";
  clientId: string;
  protocolVersion: string;
  keepalive: string;
  qos: string;
  tls: string;
  reconnectMin: string;
  reconnectMax: string;
  batchWindow: string;
  maxPayload: string;
  maxQueued: string;
  overflow: OverflowPolicy;
  /** Added with the disk store; missing in older flows (see gateway-config.ts for the defaults). */
  storeType?: "memory" | "disk";
  storePath?: string;
  storeMaxMB?: string | number;
  storeMaxAgeH?: string | number;
  doneWhen?: "stored" | "acknowledged";
  /** ThingsPanel: the gateway's device number; absent in flows saved before ThingsPanel. */
  deviceNumber?: string;
  /** Watson IoT: organisation id, the gateway's device type and id, the type of devices announced without one; absent before Watson. */
  watsonOrg?: string;
  watsonType?: string;
  watsonId?: string;
  watsonDeviceType?: string;
  /** Watson IoT managed gateway (device management) and its manage lifetime in seconds; absent before it: not managed. */
  watsonManaged?: boolean;
  watsonLifetime?: string | number;
  /** Tests only: re-manage every this many ms. */
  watsonRenewMs?: string | number;
  /** Seconds a report waits for the platform's own ack (ThingsPanel); absent = 10. */
  ackTimeout?: string;
  /** Seconds between statistics reports of the gateway device; 0 = off; absent (older flows) = 60. */
  statsPeriod?: string | number;
  /** Answer the service RPCs (gateway_ping…) in the package; absent (older flows) = true. */
  serviceRpcs?: boolean;
  /** Provisioning (auth "provision"): the gateway device's name and the credentials type asked for. */
  provisionDevice?: string;
  provisionType?: "ACCESS_TOKEN" | "MQTT_BASIC";
}

export interface GatewayCredentials {
  token?: string;
  username?: string;
  password?: string;
  provisionKey?: string;
  provisionSecret?: string;
  /** what provisioning gave: a ProvisionedRecord as JSON (lib/session/provision-file.ts) */
  provisioned?: string;
}

export interface GatewayConfigNode extends Node<GatewayCredentials> {
  /** The platform it speaks to ("thingsboard", "thingspanel", "watson"): some nodes refuse one at deploy. */
  platform?: string;
  /** The session; exists while at least one user is registered. */
  session(): GatewaySession;
  /** What waits, how old, how long until the cap (undefined while no session is open). */
  stats(): OutboxStats | undefined;
  /** The gateway's statistics since its session started (undefined while no session is open). */
  figures(): Values | undefined;
  register(user: Node): void;
  deregister(user: Node, removed: boolean): Promise<void>;
}

