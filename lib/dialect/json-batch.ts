// Builds one JSON object payload `{"<device>": <member>, …}` piece by piece, keeping its byte
// size known so that a publish is closed before it would exceed the server's limit. Each piece
// is serialised once; the payload is joined only when the publish is closed. This is the hot
// path of telemetry: no object per piece, each device's key serialised once per encode.

/** A device maps to an array of elements, an object of fields, or one whole value. */
export type MemberShape = "array" | "object" | "value";

/** A device's name as a JSON key, serialised and measured once per encode. */
export interface Key {
  json: string;
  bytes: number;
}

interface Member {
  key: Key;
  /** Serialised array elements, or serialised object members (`"k":v`). */
  parts: string[];
  partBytes: number[];
  /** Data points of each part, as the server counts them. */
  partPoints: number[];
  /** Object members by key, so that a later update of a key replaces the earlier one. */
  byKey: Map<string, number> | undefined;
}

/** UTF-8 length of a string (Buffer.byteLength: measured faster than a JS loop on these strings). */
export function utf8Length(s: string): number {
  return Buffer.byteLength(s, "utf8");
}

/** Bytes a member adds besides its parts: `"key":` plus brackets, plus a comma when not first. */
export function memberOverhead(shape: MemberShape, key: Key, first: boolean): number {
  return key.bytes + 1 + (shape === "value" ? 0 : 2) + (first ? 0 : 1);
}

export class JsonBatch {
  readonly carries: number[] = [];
  private readonly members = new Map<string, Member>();
  private bytes = 2; // {}
  private points = 0;

  constructor(readonly topic: string, private readonly shape: MemberShape) {}

  get size(): number {
    return this.bytes;
  }

  /** Devices in the payload: each is one device message to the server. */
  get devices(): number {
    return this.members.size;
  }

  /** Data points in the payload (a replaced field counts once). */
  get dataPoints(): number {
    return this.points;
  }

  /** Whether the device already has a member here (adding to it costs no new device message). */
  has(device: string): boolean {
    return this.members.has(device);
  }

  /** The payload size after adding a part of `partBytes` for `device`. */
  sizeWith(device: string, key: Key, partBytes: number): number {
    const m = this.members.get(device);
    if (m) return this.bytes + partBytes + (m.parts.length > 0 ? 1 : 0);
    return this.bytes + memberOverhead(this.shape, key, this.members.size === 0) + partBytes;
  }

  /** Appends an element to the device's array, or sets a field `"name":value` of its object. */
  add(device: string, key: Key, json: string, bytes: number, field?: string, points = 0): void {
    let m = this.members.get(device);
    if (!m) {
      this.bytes += memberOverhead(this.shape, key, this.members.size === 0);
      m = { key, parts: [], partBytes: [], partPoints: [], byKey: undefined };
      this.members.set(device, m);
    }
    if (this.shape === "value") field = ""; // one whole value: a later one replaces it
    if (field !== undefined) {
      const byKey = (m.byKey ??= new Map());
      const at = byKey.get(field);
      if (at !== undefined) {
        this.bytes += bytes - m.partBytes[at];
        this.points += points - m.partPoints[at];
        m.parts[at] = json;
        m.partBytes[at] = bytes;
        m.partPoints[at] = points;
        return;
      }
      byKey.set(field, m.parts.length);
    }
    this.bytes += bytes + (m.parts.length > 0 ? 1 : 0);
    this.points += points;
    m.parts.push(json);
    m.partBytes.push(bytes);
    m.partPoints.push(points);
  }

  carry(index: number): void {
    if (this.carries[this.carries.length - 1] !== index) this.carries.push(index);
  }

  toBuffer(): Buffer {
    const [open, close] = this.shape === "array" ? ["[", "]"] : this.shape === "object" ? ["{", "}"] : ["", ""];
    const out: string[] = [];
    for (const m of this.members.values()) out.push(m.key.json + ":" + open + m.parts.join(",") + close);
    return Buffer.from("{" + out.join(",") + "}");
  }
}
