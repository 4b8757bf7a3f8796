// The JSON of an uplink as its record keeps it, made cheaply for the kinds that carry the bulk of
// the traffic. JSON.stringify of a whole uplink walks every level of it again, although the dialect
// serialised its values at accept; for telemetry and attributes the frame is written here around
// the values' JSON: ThingsBoard's piece for a timestamped point is that point's own JSON
// (`{"ts":…,"values":…}`) and is taken as it is; any other piece, or dialect, costs one
// JSON.stringify of the values. What JSON.parse gives back equals what JSON.stringify would have
// written for the fields an uplink of that kind has (a point's extra fields are not kept: no
// dialect sends them).
import type { Prepared } from "../../dialect/types";
import type { TelemetryPoint, Uplink } from "../../records";

export function uplinkJson(u: Uplink, p: Prepared | undefined): string {
  switch (u.kind) {
    case "telemetry": {
      const points = typeof u.device === "string" && Array.isArray(u.points) ? pointsJson(u.points, p) : undefined;
      if (points !== undefined) return '{"kind":"telemetry","device":' + JSON.stringify(u.device) + ',"points":' + points + "}";
      break;
    }
    case "attributes": {
      const values = typeof u.device === "string" ? objectJson(u.values) : undefined;
      if (values !== undefined) return '{"kind":"attributes","device":' + JSON.stringify(u.device) + ',"values":' + values + "}";
      break;
    }
  }
  return JSON.stringify(u);
}

/** The points' JSON, or undefined for anything unusual (JSON.stringify of the whole uplink then decides). */
function pointsJson(points: TelemetryPoint[], p: Prepared | undefined): string | undefined {
  const pieces = p && p.json.length === points.length ? p.json : undefined;
  let s = "[";
  for (let i = 0; i < points.length; i++) {
    if (i > 0) s += ",";
    const point = points[i];
    if (typeof point !== "object" || point === null) return undefined;
    const ts = point.ts;
    if (ts === undefined) {
      const v = objectJson(point.values);
      if (v === undefined) return undefined;
      s += '{"values":' + v + "}";
      continue;
    }
    if (typeof ts !== "number" || !Number.isFinite(ts)) return undefined;
    // A finite number's String() is its JSON.
    const head = '{"ts":' + String(ts) + ',"values":';
    const piece = pieces?.[i];
    if (piece !== undefined && piece.startsWith(head) && piece.endsWith("}")) {
      s += piece;
      continue;
    }
    const v = objectJson(point.values);
    if (v === undefined) return undefined;
    s += head + v + "}";
  }
  return s + "]";
}

/** JSON.stringify of an object without a toJSON of its own (the common case), else undefined. */
function objectJson(v: unknown): string | undefined {
  if (typeof v !== "object" || v === null || typeof (v as { toJSON?: unknown }).toJSON === "function") return undefined;
  return JSON.stringify(v);
}
