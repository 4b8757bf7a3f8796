// What provisioning gave, kept so that the gateway never asks again (the server answers a second
// request for the same name with FAILURE). Node-RED's credential store holds it, but writes it to
// flows_cred only at the next deploy: a restart before that would lose it. So a copy also goes to
// the gateway's own folder, readable by the owner only, until the flow forgets the gateway.
import fs from "fs";
import path from "path";
import type { Credentials } from "../dialect/types";
import type { ProvisionCredentialsType } from "../dialect/thingsboard-provision";

export const PROVISIONED_FILE = "provisioned.json";

export interface ProvisionedRecord {
  /** the device name it was provisioned under: another name in the config provisions anew */
  deviceName: string;
  credentialsType: ProvisionCredentialsType;
  credentials: Credentials;
}

/** A record read back (from the credential store's JSON string or the file), or undefined when it does not hold. */
export function parseProvisioned(text: string | undefined): ProvisionedRecord | undefined {
  if (!text) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== "object" || v === null) return undefined;
  const r = v as Partial<ProvisionedRecord>;
  const c = r.credentials;
  if (typeof r.deviceName !== "string" || typeof c !== "object" || c === null) return undefined;
  const creds: Credentials = {};
  for (const k of ["accessToken", "clientId", "username", "password"] as const) if (typeof c[k] === "string") creds[k] = c[k];
  if (!creds.accessToken && !creds.username) return undefined;
  return { deviceName: r.deviceName, credentialsType: r.credentialsType === "MQTT_BASIC" ? "MQTT_BASIC" : "ACCESS_TOKEN", credentials: creds };
}

export function readProvisionedFile(dir: string): ProvisionedRecord | undefined {
  try {
    return parseProvisioned(fs.readFileSync(path.join(dir, PROVISIONED_FILE), "utf8"));
  } catch {
    return undefined;
  }
}

/** Written whole (temp file, then rename) so that a crash leaves the old copy or the new one. */
export function writeProvisionedFile(dir: string, record: ProvisionedRecord): void {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, PROVISIONED_FILE);
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(record), { mode: 0o600 });
  fs.renameSync(tmp, file);
}

export function removeProvisionedFile(dir: string): void {
  fs.rmSync(path.join(dir, PROVISIONED_FILE), { force: true });
}
