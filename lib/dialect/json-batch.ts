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

/** One device's member of a payload. Its caller keeps it per device (no lookup by name per part). */
export interface Member {
  readonly batch: JsonBatch;
  key: Key;
  /** Serialised array elements, or serialised object members (`"k":v`). */
  parts: string[];
  /** Per part, only where a part can be replaced (fields): its bytes and data points. */
  partBytes: number[] | undefined;
  partPoints: number[] | undefined;
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
  private readonly members: Member[] = [];
  private bytes = 2; // {}
  private points = 0;

  constructor(readonly topic: string, private readonly shape: MemberShape) {}

  get size(): number {
    return this.bytes;
  }

  /** Devices in the payload: each is one device message to the server. */
  get devices(): number {
    return this.members.length;
  }

  /** Data points in the payload (a replaced field counts once). */
  get dataPoints(): number {
    return this.points;
  }

  /** The payload size after adding a part of `partBytes` to member `m` (none: the device's first part here). */
  sizeWith(m: Member | undefined, key: Key, partBytes: number): number {
    if (m) return this.bytes + partBytes + (m.parts.length > 0 ? 1 : 0);
    return this.bytes + memberOverhead(this.shape, key, this.members.length === 0) + partBytes;
  }

  /**
   * Appends an element to the device's array, or sets a field `"name":value` of its object; `m`
   * is the device's member here (none: it is made). Returns the member.
   */
  add(m: Member | undefined, key: Key, json: string, bytes: number, field?: string, points = 0): Member {
    if (!m || m.batch !== this) {
      this.bytes += memberOverhead(this.shape, key, this.members.length === 0);
      m = { batch: this, key, parts: [], partBytes: undefined, partPoints: undefined, byKey: undefined };
      this.members.push(m);
    }
    if (this.shape === "value") field = ""; // one whole value: a later one replaces it
    if (field !== undefined) {
      const byKey = (m.byKey ??= new Map());
      const partBytes = (m.partBytes ??= []);
      const partPoints = (m.partPoints ??= []);
      const at = byKey.get(field);
      if (at !== undefined) {
        this.bytes += bytes - partBytes[at];
        this.points += points - partPoints[at];
        m.parts[at] = json;
        partBytes[at] = bytes;
        partPoints[at] = points;
        return m;
      }
      byKey.set(field, m.parts.length);
      partBytes.push(bytes);
      partPoints.push(points);
    }
    this.bytes += bytes + (m.parts.length > 0 ? 1 : 0);
    this.points += points;
    m.parts.push(json);
    return m;
  }

  carry(index: number): void {
    if (this.carries[this.carries.length - 1] !== index) this.carries.push(index);
  }

  /** The payload, built as one string and written into one Buffer once. */
  toBuffer(): Buffer {
    const open = this.shape === "array" ? "[" : this.shape === "object" ? "{" : "";
    const close = this.shape === "array" ? "]" : this.shape === "object" ? "}" : "";
    let s = "{";
    for (let i = 0; i < this.members.length; i++) {
      const m = this.members[i];
      s += (i > 0 ? "," : "") + m.key.json + ":" + open + m.parts.join(",") + close;
    }
    return Buffer.from(s + "}");
  }
}
