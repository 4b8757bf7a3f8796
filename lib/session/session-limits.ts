// ThingsBoard's answer to getSessionLimits. Rate limits are strings of "capacity:seconds"
// pairs ("10:1,300:60"); they are recorded here, and applied by the outbox's rate budget.
import type { RateLimit } from "../records";

export type { RateLimit };

export interface SessionLimits {
  maxPayloadSize?: number;
  maxInflightMessages?: number;
  rateLimits: Record<string, RateLimit[]>;
  gatewayRateLimits: Record<string, RateLimit[]>;
}

export function parseRateLimit(text: unknown): RateLimit[] {
  if (typeof text !== "string") return [];
  const out: RateLimit[] = [];
  for (const pair of text.split(",")) {
    const [c, s] = pair.split(":").map(Number);
    if (Number.isFinite(c) && Number.isFinite(s) && c > 0 && s > 0) out.push({ capacity: c, seconds: s });
  }
  return out;
}

function rates(v: unknown): Record<string, RateLimit[]> {
  const out: Record<string, RateLimit[]> = {};
  if (typeof v !== "object" || v === null) return out;
  for (const [k, text] of Object.entries(v)) out[k] = parseRateLimit(text);
  return out;
}

function positive(v: unknown): number | undefined {
  const n = typeof v === "string" ? Number(v) : v;
  return typeof n === "number" && Number.isFinite(n) && n > 0 ? n : undefined;
}

export function parseSessionLimits(body: unknown): SessionLimits {
  const b = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
  return {
    maxPayloadSize: positive(b.maxPayloadSize),
    maxInflightMessages: positive(b.maxInflightMessages),
    rateLimits: rates(b.rateLimits),
    gatewayRateLimits: rates(b.gatewayRateLimits),
  };
}
