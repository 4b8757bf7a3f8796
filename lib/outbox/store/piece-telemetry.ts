// Telemetry held as the dialect's pieces ("ts-values", dialect/types.ts), not as points: what the
// disk store makes of a telemetry record read back (uplink-read.ts).
import type { TelemetryPoint, Uplink, Values } from "../../records";

/**
 * A telemetry uplink held as its pieces, as its record gives them back. Its
 * points are parsed from them (`timed`: each is `{"ts":…,"values":…}`, else the values alone)
 * the first time they are read, once: the encoder reads only its kind and device, and sends the
 * pieces. One object where the parsed uplink is four or more (and the msg's values with them).
 * It serialises as the plain uplink does (toJSON); its own fields are not the uplink's.
 */
export class PieceTelemetry {
  readonly kind = "telemetry";
  private parsed: TelemetryPoint[] | undefined = undefined;

  /** `json`: the one point's piece, or each point's. */
  constructor(readonly device: string, private readonly json: string | string[], private readonly timed: boolean | boolean[]) {}

  get points(): TelemetryPoint[] {
    return (this.parsed ??= typeof this.json === "string" ? [pointOf(this.json, this.timed as boolean)] : parsePoints(this.json, this.timed as boolean[]));
  }

  set points(v: TelemetryPoint[]) {
    this.parsed = v;
  }

  toJSON(): Uplink {
    return { kind: "telemetry", device: this.device, points: this.points };
  }
}

function parsePoints(json: string[], timed: boolean[]): TelemetryPoint[] {
  const out = new Array<TelemetryPoint>(json.length);
  for (let i = 0; i < json.length; i++) out[i] = pointOf(json[i], timed[i]);
  return out;
}

export function pointOf(json: string, timed: boolean): TelemetryPoint {
  const v = JSON.parse(json) as Values;
  return timed ? (v as unknown as TelemetryPoint) : { values: v };
}
