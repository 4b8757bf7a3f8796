import type { Entry, UplinkStore } from "../types";
import { TurnClock } from "./turn-clock";

/** An entry as this store keeps it: with its accept time, for "how old is the oldest". */
type Timed = Entry & { at?: number };

/** The default store: a FIFO in memory, lost when Node-RED stops. */
export class MemoryStore implements UplinkStore {
  private items: Timed[] = [];
  private head = 0;
  private readonly clock = new TurnClock();

  get size(): number {
    return this.items.length - this.head;
  }

  push(entry: Entry): void {
    (entry as Timed).at ??= this.clock.now();
    this.items.push(entry);
  }

  /** Accept time of the oldest waiting entry (requeued entries keep theirs). */
  get oldestAt(): number | undefined {
    for (let i = this.head, end = Math.min(this.items.length, this.head + 1000); i < end; i++) {
      const at = this.items[i].at;
      if (at !== undefined) return at;
    }
    return undefined;
  }

  unshift(entries: Entry[]): void {
    if (entries.length === 0) return;
    this.items = entries.concat(this.items.slice(this.head));
    this.head = 0;
  }

  take(max: number): Entry[] {
    const end = Math.min(this.items.length, this.head + max);
    const out = this.items.slice(this.head, end);
    this.head = end;
    this.compact();
    return out;
  }

  dropOldest(): Entry | undefined {
    if (this.size === 0) return undefined;
    const e = this.items[this.head++];
    this.compact();
    return e;
  }

  clear(): Entry[] {
    const out = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    return out;
  }

  // Taken entries stay referenced until the array is cut: cut it once they are the larger part.
  private compact(): void {
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
