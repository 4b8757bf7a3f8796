// The test platform's vocabulary: what the admin API answers and the editor shows. No I/O here.

export const PLATFORMS = ["thingsboard", "thingspanel", "watson", "modbus"] as const;
export type PlatformKind = (typeof PLATFORMS)[number];

/** The device profile's provision key and secret the ThingsBoard test platform accepts (auth "provision"). */
export const PROVISION_KEY = "PROVISION_KEY";
export const PROVISION_SECRET = "PROVISION_SECRET";

/** The Modbus simulator's port when none is asked for: the one the Modbus example's connection names. */
export const MODBUS_PORT = 5020;

/** The access token every test platform accepts, the one the shipped examples' comments name. */
export const TOKEN = "GATEWAY_TOKEN";

/** What a gateway-config needs to use a platform: the editor's "use it" sets these. */
export interface UseSettings {
  platform: Exclude<PlatformKind, "modbus">;
  url: string;
  auth: "token";
  token: string;
  deviceNumber?: string;
  watsonOrg?: string;
  watsonType?: string;
  watsonId?: string;
  /** ThingsBoard: for a gateway-config that provisions itself (auth "provision") */
  provisionKey?: string;
  provisionSecret?: string;
}

export interface PlatformInfo {
  id: string;
  platform: PlatformKind;
  url: string;
  port: number;
  startedAt: number;
  gatewayConnected: boolean;
  /** for a gateway-config; none for the Modbus simulator (a modbus-connection names its host and port) */
  use?: UseSettings;
  /** what this platform can send: "rpc", "attributes", "command", "device-action" */
  actions: Action[];
}

export type Action = "rpc" | "attributes" | "command" | "device-action";

export interface DeviceView {
  /** how the platform names the device: ThingsBoard's name, ThingsPanel's address path ("" = the gateway), Watson's type/id */
  name: string;
  gateway: boolean;
  connected?: boolean;
  profile?: string;
  /** the last telemetry (ThingsBoard, ThingsPanel) or event (Watson) received */
  latest?: { ts: number; values: unknown; event?: string };
  /** how many telemetry points / events were received */
  count: number;
  /** client attributes reported (ThingsBoard) / attributes stored (ThingsPanel) */
  attributes?: Record<string, unknown>;
  /** claiming requests received (ThingsBoard) */
  claims?: number;
  /** events received (ThingsPanel; Watson's events are its telemetry, in latest/count) */
  events?: { count: number; last?: string };
  /** a managed device's record (Watson IoT device management) */
  managed?: { deviceInfo: Record<string, unknown>; metadata: Record<string, unknown>; location?: Record<string, unknown>; errorCodes: number[]; log: number; dormant: boolean };
}

/** A failure the editor shows: `code` names the message in the catalogue, `params` fill it. */
export class TestPlatformError extends Error {
  constructor(readonly code: string, readonly status: number, readonly params: Record<string, string | number> = {}, detail?: string) {
    super(detail ?? code);
  }
}

export interface SendRequest {
  device: string;
  method?: string;
  params?: unknown;
  values?: Record<string, unknown>;
  timeoutMs?: number;
}

/** What came back: the device's answer, or (a one-way send) whether it reached the gateway. */
export interface SendResult {
  delivered: boolean;
  response?: unknown;
}

export interface Running {
  info(): PlatformInfo;
  devices(): DeviceView[];
  send(action: Action, req: SendRequest): Promise<SendResult>;
  /** forgets all but the latest history (a platform left running must not grow without bound) */
  trim(keep: number): void;
  stop(): Promise<void>;
}
