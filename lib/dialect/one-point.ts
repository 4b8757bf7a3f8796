// The prepared form of a one-point telemetry uplink in the "ts-values" form (types.ts): made by
// ThingsBoard's prepare at accept, and by the disk store from a record read back.
import type { Prepared } from "./types";

/**
 * A telemetry uplink of one point (most msgs), prepared: its text, bytes and key count as fields,
 * not as three one-element arrays (about 170 bytes less held per msg until its PUBACK). The
 * ThingsBoard encoder reads the fields (thingsboard-encode.ts); the arrays of `Prepared` are made
 * only if something else asks for them.
 */
export class OnePoint implements Prepared {
  constructor(readonly text: string, readonly size: number, readonly total: number) {}
  get json(): string[] {
    return [this.text];
  }
  get bytes(): number[] {
    return [this.size];
  }
  get points(): number[] {
    return [this.total];
  }
}
