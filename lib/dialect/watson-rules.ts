// IBM Watson IoT's naming rules and topics for gateways (shared/protocols/watson.md): a device is
// a type and an id, each at most 36 characters of [A-Za-z0-9-_.]; every topic carries both.

/** The most bytes of one MQTT packet's payload the platform accepts: larger is refused and the client disconnected. */
export const WATSON_MAX_PAYLOAD = 131072;
export const MAX_NAME = 36;
const NAME = /^[A-Za-z0-9\-_.]+$/;
/** Event and command ids are topic segments: the platform documents no charset, so only what MQTT forbids is refused. */
const SEGMENT = /^[^/+#\u0000]+$/;

/** What is wrong with a device type or id, as the platform would refuse it (null: nothing). */
export function nameProblem(value: unknown, what: string): string | null {
  if (typeof value !== "string" || value === "") return `Watson IoT needs ${what} (a non-empty string)`;
  if (value.length > MAX_NAME) return `${what} "${value}" is ${value.length} characters: Watson IoT allows at most ${MAX_NAME}`;
  if (!NAME.test(value)) return `${what} "${value}" may contain only letters, digits, "-", "_" and "."`;
  return null;
}

export function orgProblem(org: unknown): string | null {
  if (typeof org !== "string" || org.trim() === "") return "Watson IoT needs the organisation id (6 characters, from the platform's dashboard)";
  if (!/^[A-Za-z0-9]+$/.test(org.trim())) return `the organisation id "${org}" may contain only letters and digits`;
  return null;
}

export function segmentProblem(value: unknown, what: string): string | null {
  if (typeof value !== "string" || value === "") return `${what} must be a non-empty string`;
  if (!SEGMENT.test(value)) return `${what} "${value}" may not contain "/", "+" or "#" (it is a topic level)`;
  return null;
}

export function eventTopic(type: string, id: string, event: string, format = "json"): string {
  return `iot-2/type/${type}/id/${id}/evt/${event}/fmt/${format}`;
}

export function notifyTopic(type: string, id: string): string {
  return `iot-2/type/${type}/id/${id}/notify`;
}

/** Every command to the gateway and to any device behind it (the platform needs an explicit subscription). */
export const COMMANDS_FILTER = "iot-2/type/+/id/+/cmd/+/fmt/+";

export interface CommandTopic {
  type: string;
  id: string;
  command: string;
  format: string;
}

export function parseCommandTopic(topic: string): CommandTopic | null {
  const s = topic.split("/");
  if (s.length !== 9 || s[0] !== "iot-2" || s[1] !== "type" || s[3] !== "id" || s[5] !== "cmd" || s[7] !== "fmt") return null;
  return { type: s[2], id: s[4], command: s[6], format: s[8] };
}

/** One notification of the notify topic: a publish or subscribe of the gateway that the platform refused. */
export interface Notification {
  request: "publish" | "subscribe" | string;
  topic: string;
  type?: string;
  id?: string;
  rc: number | string;
  message: string;
}

export function parseNotification(body: unknown): Notification | string {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return "expected a JSON object";
  const b = body as Record<string, unknown>;
  if (typeof b.Topic !== "string" || typeof b.Request !== "string") return 'expected {"Request", "Topic", "RC", "Message"}';
  const rc = typeof b.RC === "number" || typeof b.RC === "string" ? b.RC : "?";
  return {
    request: b.Request,
    topic: b.Topic,
    type: typeof b.Type === "string" ? b.Type : undefined,
    id: typeof b.Id === "string" ? b.Id : undefined,
    rc,
    message: typeof b.Message === "string" ? b.Message : "(no message)",
  };
}

/** The key a notification about `request` on `topic` settles (the dialect's failureKey of that publish). */
export function notificationKey(request: string, topic: string): string {
  return `${request}:${topic}`;
}

/** What the user can do about a notification, beyond the platform's words. */
export function notificationHint(n: Notification): string {
  const m = n.message.toLowerCase();
  if (m.includes("maximum number of devices per gateway")) return " (Watson IoT keeps at most 500 devices active per gateway connection: the count resets when the gateway reconnects)";
  if (m.includes("maximum number of devices per organization")) return " (the organisation's device quota is used up: delete unused devices in the platform)";
  if (m.includes("failed to create device")) return " (auto-registration failed: the platform drops this device's messages for a short time, then registers it again on its next publish)";
  if (m.includes("topic does not match")) return " (the gateway may publish only iot-2/type/{type}/id/{id}/evt/{event}/fmt/{format})";
  return "";
}
