// Builds one JSON object payload `{"<device>": <member>, …}` piece by piece, keeping its byte
// size known so that a publish is closed before it would exceed the server's limit. Each piece
// is serialised once; the payload is joined only when the publish is closed.

/** A device maps to an array of elements, an object of fields, or one whole value. */
export type MemberShape = "array" | "object" | "value";

interface Member {
  keyJson: string;
  /** Serialised array elements, or serialised object members (`"k":v`). */
  parts: string[];
  partBytes: number[];
  /** Object members by key, so that a later update of a key replaces the earlier one. */
  byKey: Map<string, number>;
}

export class JsonBatch {
  readonly carries: number[] = [];
  private readonly members = new Map<string, Member>();
  private bytes = 2; // {}

  constructor(readonly topic: string, private readonly shape: MemberShape) {}

  get size(): number {
    return this.bytes;
  }

  get empty(): boolean {
    return this.members.size === 0;
  }

  /** The payload size after adding a part of `partBytes` for `device`. */
  sizeWith(device: string, partBytes: number): number {
    const m = this.members.get(device);
    if (m) return this.bytes + partBytes + (m.parts.length > 0 ? 1 : 0);
    return this.bytes + this.memberBytes(device) + partBytes;
  }

  /** Appends an element to the device's array, or sets a field `"key":value` of its object. */
  add(device: string, json: string, bytes: number, key?: string): void {
    let m = this.members.get(device);
    if (!m) {
      this.bytes += this.memberBytes(device);
      m = { keyJson: JSON.stringify(device), parts: [], partBytes: [], byKey: new Map() };
      this.members.set(device, m);
    }
    if (this.shape === "value") key = ""; // one whole value: a later one replaces it
    if (key !== undefined) {
      const at = m.byKey.get(key);
      if (at !== undefined) {
        this.bytes += bytes - m.partBytes[at];
        m.parts[at] = json;
        m.partBytes[at] = bytes;
        return;
      }
      m.byKey.set(key, m.parts.length);
    }
    this.bytes += bytes + (m.parts.length > 0 ? 1 : 0);
    m.parts.push(json);
    m.partBytes.push(bytes);
  }

  /** `"device":[]` plus the comma before it when it is not the first member. */
  private memberBytes(device: string): number {
    const brackets = this.shape === "value" ? 0 : 2;
    return Buffer.byteLength(JSON.stringify(device)) + 1 + brackets + (this.members.size > 0 ? 1 : 0);
  }

  carry(index: number): void {
    if (this.carries[this.carries.length - 1] !== index) this.carries.push(index);
  }

  toBuffer(): Buffer {
    const [open, close] = this.shape === "array" ? ["[", "]"] : this.shape === "object" ? ["{", "}"] : ["", ""];
    const out: string[] = [];
    for (const m of this.members.values()) out.push(m.keyJson + ":" + open + m.parts.join(",") + close);
    return Buffer.from("{" + out.join(",") + "}");
  }
}


