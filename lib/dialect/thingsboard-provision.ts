// ThingsBoard's device provisioning, its protocol half (shared/protocols/thingsboard.md
// "Provisioning"; the server's answers are those of its JsonConverter): the topics, the request
// body and what an answer means. The connection that carries them is lib/session/provision.ts.
import { randomBytes } from "crypto";
import type { Credentials } from "./types";

export const PROVISION_USERNAME = "provision";
export const PROVISION_REQUEST_TOPIC = "/provision/request";
export const PROVISION_RESPONSE_TOPIC = "/provision/response";

export type ProvisionCredentialsType = "ACCESS_TOKEN" | "MQTT_BASIC";

export interface ProvisionRequest {
  key: string;
  secret: string;
  deviceName: string;
  credentialsType: ProvisionCredentialsType;
}


/** The server said no: `status` is its word (NOT_FOUND, FAILURE…), `reason` its errorMsg. */
export class ProvisionRefused extends Error {
  constructor(readonly status: string, readonly reason: string) {
    super(`provisioning refused by the server: ${status}${reason ? ` (${reason})` : ""}`);
  }
}

/**
 * The request body. The server generates an access token when the request brings none; MQTT
 * basic credentials it only saves when the request brings them, so they are made up here.
 */
export function provisionBody(req: ProvisionRequest, random: (n: number) => string = (n) => randomBytes(n).toString("hex")): Record<string, unknown> {
  const body: Record<string, unknown> = {
    deviceName: req.deviceName,
    provisionDeviceKey: req.key,
    provisionDeviceSecret: req.secret,
    credentialsType: req.credentialsType,
    gateway: true,
  };
  if (req.credentialsType === "MQTT_BASIC") {
    body.clientId = `gw-${random(6)}`;
    body.username = `gw-${random(6)}`;
    body.password = random(12);
  }
  return body;
}

/** The credentials of a SUCCESS answer, or why there are none. */
export function credentialsOf(answer: unknown): Credentials | ProvisionRefused {
  if (typeof answer !== "object" || answer === null || Array.isArray(answer)) return new ProvisionRefused("INVALID", "the answer is not a JSON object");
  const a = answer as Record<string, unknown>;
  const status = typeof a.status === "string" ? a.status : "INVALID";
  if (status !== "SUCCESS") return new ProvisionRefused(status, typeof a.errorMsg === "string" ? a.errorMsg : "");
  const v = a.credentialsValue;
  if (a.credentialsType === "ACCESS_TOKEN" && typeof v === "string" && v !== "") return { accessToken: v };
  if (a.credentialsType === "MQTT_BASIC" && typeof v === "object" && v !== null) {
    const b = v as Record<string, unknown>;
    if (typeof b.userName === "string" && b.userName !== "") {
      return { username: b.userName, password: typeof b.password === "string" ? b.password : "", clientId: typeof b.clientId === "string" && b.clientId !== "" ? b.clientId : undefined };
    }
  }
  return new ProvisionRefused("UNSUPPORTED", `credentials of type ${String(a.credentialsType)} that this gateway cannot use`);
}
