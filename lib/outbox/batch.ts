// One encoded batch on its way: the entries taken from the queue, the publishes the dialect made
// of them, and per entry how many of its publishes the server has still to acknowledge. An entry
// split over several publishes is delivered when the last of them is acknowledged.
import type { Encoded, Publish } from "../dialect/types";
import { OutboxError } from "./errors";
import type { Entry } from "./types";

/** One publish of a batch: waiting for the budget, on the wire, or settled. */
export interface Out {
  publish: Publish;
  /** When it went on the wire (0: not yet). */
  sentAt: number;
  settled: boolean;
}

export class Batch {
  readonly outs: Out[];
  /** Per entry: publishes still unacknowledged; 0 = delivered, -1 = refused. */
  private readonly pending: number[];
  private open: number;

  /** Ends at once what the dialect refused, and what it had nothing to send for (delivered). */
  constructor(readonly entries: Entry[], encoded: Encoded, delivered: (e: Entry) => void) {
    this.pending = new Array<number>(entries.length).fill(0);
    this.outs = encoded.publishes.map((publish) => ({ publish, sentAt: 0, settled: false }));
    this.open = this.outs.length;
    for (const r of encoded.refused) {
      this.pending[r.index] = -1;
      entries[r.index].reject(new OutboxError(r.reason, "invalid"));
    }
    for (const p of encoded.publishes) for (const i of p.carries) this.pending[i]++;
    for (let i = 0; i < entries.length; i++) if (this.pending[i] === 0) delivered(entries[i]);
  }

  get done(): boolean {
    return this.open === 0;
  }

  /** The server's answer to one publish: each entry it carries is delivered once all of its are, or refused. */
  settle(out: Out, delivered: (e: Entry) => void, refusal?: Error): void {
    this.close(out, (i) => {
      if (refusal) {
        this.pending[i] = -1;
        this.entries[i].reject(new OutboxError(`the server refused it: ${refusal.message}`, "refused"));
      } else if (--this.pending[i] === 0) {
        delivered(this.entries[i]);
      }
    });
  }

  /** A publish that can never be sent: the entries it carries end with `reason`. */
  refuse(out: Out, reason: string): void {
    this.close(out, (i) => {
      this.pending[i] = -1;
      this.entries[i].reject(new OutboxError(reason, "invalid"));
    });
  }

  /** Entries of publishes that went out after `since` and are not acknowledged. */
  unackedSince(since: number, into: Set<Entry>): void {
    for (const o of this.outs) {
      if (o.settled || o.sentAt === 0 || o.sentAt < since) continue;
      for (const i of o.publish.carries) if (this.pending[i] > 0) into.add(this.entries[i]);
    }
  }

  /** Entries not yet delivered or refused, in order. */
  waiting(into: Entry[]): void {
    this.entries.forEach((e, i) => this.pending[i] > 0 && into.push(e));
  }

  /** How many entries are not yet delivered or refused. */
  get waitingCount(): number {
    let n = 0;
    for (const p of this.pending) if (p > 0) n++;
    return n;
  }

  private close(out: Out, each: (i: number) => void): void {
    out.settled = true;
    this.open--;
    for (const i of out.publish.carries) if (this.pending[i] > 0) each(i);
  }
}
