// Containing a poison publish. Validation keeps known poisons out, but a server may close the
// connection on something nobody foresaw, and a gateway that sends the same batch again after
// each reconnect would then stay down for good with everything behind it. So: every entry that
// was in flight, unacknowledged, when the connection closed shortly after it was published
// takes a strike. Once entries have `ISOLATE` strikes, the outbox probes: it sends half of the
// suspects as one batch, alone on the wire; acknowledged, they are cleared; closed again, the
// half is halved, until one entry alone makes the server close: only that msg is ended, with a
// catchable error, and the rest goes on. About 2·log2(batch) reconnects find one culprit.
import type { Entry } from "./types";

/** Strikes after which the outbox stops sending the suspects together. */
export const ISOLATE = 3;
/** A close later than this after a publish is not taken as the server's answer to it. */
export const CLOSE_WINDOW_MS = 10000;

export class Isolation {
  /** Entries per probe while probing; undefined when not probing. */
  probe: number | undefined;
  /** Suspects not yet cleared by an acknowledgement. */
  private suspects = 0;

  /** Whether the next batch goes alone and how large it may be. */
  get probing(): boolean {
    return this.probe !== undefined;
  }

  /**
   * The connection closed with `unacked` entries published shortly before and not acknowledged.
   * Returns the entry to end as the culprit (it made the server close even alone), if any.
   */
  onClose(unacked: Entry[]): Entry | undefined {
    if (unacked.length === 0) return undefined;
    let most = 0;
    for (const e of unacked) {
      e.strikes = (e.strikes ?? 0) + 1;
      most = Math.max(most, e.strikes);
    }
    if (this.probe === undefined) {
      if (most < ISOLATE) return undefined;
      this.suspects = unacked.length;
      this.probe = Math.ceil(unacked.length / 2);
      return undefined;
    }
    if (unacked.length === 1 && this.probe === 1) {
      this.suspects = Math.max(0, this.suspects - 1);
      if (this.suspects === 0) this.probe = undefined;
      return unacked[0];
    }
    this.probe = Math.max(1, Math.ceil(Math.min(this.probe, unacked.length) / 2));
    return undefined;
  }

  /** Entries the server acknowledged: no longer suspects. */
  onAck(entry: Entry): void {
    if (!entry.strikes) return;
    entry.strikes = 0;
    if (this.probe !== undefined && --this.suspects <= 0) this.probe = undefined;
  }
}
