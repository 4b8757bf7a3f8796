// Short reasons (they go in a node's status, under 20 characters) for why a connection failed.
const MQTT3: Record<number, string> = {
  1: "bad protocol",
  2: "client id rejected",
  3: "server unavailable",
  4: "bad credentials",
  5: "not authorised",
};

const MQTT5: Record<number, string> = {
  0x80: "refused",
  0x84: "bad protocol",
  0x85: "client id rejected",
  0x86: "bad credentials",
  0x87: "not authorised",
  0x88: "server unavailable",
  0x89: "server busy",
  0x8a: "banned",
  0x8c: "bad auth method",
  0x95: "packet too large",
  0x97: "quota exceeded",
};

const SOCKET: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "DNS failure",
  ETIMEDOUT: "timed out",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  EPIPE: "connection lost",
};

export function describeConnectError(err: Error & { code?: unknown }): string {
  const code = err.code;
  if (typeof code === "number") return MQTT5[code] ?? MQTT3[code] ?? `refused (${code})`;
  if (typeof code === "string" && SOCKET[code]) return SOCKET[code];
  if (typeof code === "string" && /^(ERR_TLS|CERT_|DEPTH_|UNABLE_TO|SELF_SIGNED)/.test(code)) return "TLS failure";
  if (/timeout/i.test(err.message)) return "timed out";
  return err.message.length <= 40 ? err.message : err.message.slice(0, 37) + "...";
}
