// Watson IoT's device management protocol for a managed gateway (shared/protocols/watson.md,
// "Managed gateway"), pure: requests {"d", "reqId"} up on iotdevice-1/type/T/id/D/{op}, the
// platform's answers {rc, message?, reqId} down on iotdm-1/type/T/id/D/response, and the platform's
// own requests (device actions) down on iotdm-1/type/T/id/D/mgmt/initiate/device/{action}, answered
// on iotdevice-1/type/T/id/D/response. A request waits for its answer under the key "dm:{reqId}"
// (the session's platform acks, with their timeout); a 2xx is success, anything else its failure.
// Where the docs are silent: one subscription iotdm-1/type/+/id/+/# (the facts') instead of the
// seed's two; requests go without a trailing slash; reqIds are "{8 random hex}-{counter}", fresh for
// every send (a renewal is a new request, not a retry); the answer waits the gateway-config's ack
// timeout; a notification about a publish on an iotdevice-1 topic fails the oldest request open on
// that topic; the gateway's own manage carries no deviceInfo or metadata.
import { randomBytes } from "crypto";

/** Subscribed after every connect: every request and answer of the platform, for the gateway and its devices. */
export const DM_FILTER = "iotdm-1/type/+/id/+/#";
/** The device actions the gateway supports (supports.deviceActions); firmware actions it does not. */
export const DEVICE_ACTIONS: ReadonlySet<string> = new Set(["reboot", "factory_reset"]);
/** The lifetime (s) of a manage request when none is configured: re-sent at 90 % of it. */
export const DEFAULT_LIFETIME_S = 3600;
const MAX_PENDING = 1000;

export function dmTopic(type: string, id: string, op: string): string {
  return `iotdevice-1/type/${type}/id/${id}/${op}`;
}

export function lifetimeProblem(v: unknown): string | null {
  return typeof v === "number" && Number.isInteger(v) && (v === 0 || v >= 3600) ? null : `the managed gateway's lifetime must be 0 (never dormant) or at least 3600 seconds, got ${JSON.stringify(v)}`;
}

/** A request of the platform to the gateway or a device: its topic parsed. */
export interface PlatformRequest {
  type: string;
  id: string;
  /** The topic after iotdm-1/type/T/id/D/ ("response" for an answer to the gateway's request). */
  op: string;
}

export function parseDmTopic(topic: string): PlatformRequest | null {
  const s = topic.split("/");
  if (s.length < 6 || s[0] !== "iotdm-1" || s[1] !== "type" || s[3] !== "id") return null;
  return { type: s[2], id: s[4], op: s.slice(5).join("/") };
}

/** The action of an initiate topic (reboot, factory_reset), or undefined. */
export function actionOf(op: string): string | undefined {
  const m = /^mgmt\/initiate\/device\/([^/]+)$/.exec(op);
  return m ? m[1] : undefined;
}

interface Pending {
  what: string;
  type: string;
  id: string;
  topic: string;
}

export interface DmAnswer {
  key: string;
  failure?: string;
}

/** The gateway's open device management requests, by reqId. */
export class DmRequests {
  private readonly pending = new Map<string, Pending>();
  private readonly prefix = randomBytes(4).toString("hex");
  private next = 1;

  /** A request's body with a fresh reqId, remembered until its answer. */
  open(what: string, type: string, id: string, op: string, d: string | undefined): { topic: string; body: string } {
    const reqId = `${this.prefix}-${this.next++}`;
    const topic = dmTopic(type, id, op);
    this.pending.set(reqId, { what, type, id, topic });
    while (this.pending.size > MAX_PENDING) this.pending.delete(this.pending.keys().next().value as string);
    return { topic, body: d === undefined ? `{"reqId":${JSON.stringify(reqId)}}` : `{"d":${d},"reqId":${JSON.stringify(reqId)}}` };
  }

  /** The key a publish awaits: its reqId (none for an answer to the platform, which nothing answers). */
  static keyOf(topic: string, payload: Buffer | undefined): string | undefined {
    if (!topic.startsWith("iotdevice-1/") || topic.endsWith("/response") || !payload) return undefined;
    try {
      const reqId = (JSON.parse(payload.toString("utf8")) as { reqId?: unknown }).reqId;
      return typeof reqId === "string" ? `dm:${reqId}` : undefined;
    } catch {
      return undefined;
    }
  }

  /** The platform's answer {rc, message?, reqId}; a string when it is malformed. */
  answer(body: unknown): DmAnswer | string {
    if (typeof body !== "object" || body === null) return "expected {rc, reqId}";
    const b = body as Record<string, unknown>;
    if (typeof b.reqId !== "string") return "an answer without a reqId";
    const p = this.pending.get(b.reqId);
    this.pending.delete(b.reqId);
    const key = `dm:${b.reqId}`;
    if (typeof b.rc === "number" && b.rc >= 200 && b.rc < 300) return { key };
    const who = p ? `the ${p.what} of ${p.type}/${p.id}` : `request ${b.reqId}`;
    const message = typeof b.message === "string" ? `, "${b.message}"` : "";
    return { key, failure: `Watson IoT refused ${who}: rc ${JSON.stringify(b.rc)}${message}` };
  }

  /** A notification about a publish on `topic` fails the oldest request open on it. */
  refusedOn(topic: string, failure: string): DmAnswer | undefined {
    for (const [reqId, p] of this.pending) {
      if (p.topic !== topic) continue;
      this.pending.delete(reqId);
      return { key: `dm:${reqId}`, failure };
    }
    return undefined;
  }
}
