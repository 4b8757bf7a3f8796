// Accept times, read once per turn of the event loop: Date.now() measures ~70 ns a call on this
// machine (a call into the runtime), as much as a quarter of the disk store's own work per msg.
// Node-RED delivers each msg in a setImmediate callback of its own (microtasks run after each),
// so the time read first in a turn is kept until a setImmediate queued then runs: the next turn.
// A turn takes a few ms under load (a thousand msgs); an accept time is never older than that.
// Bounded by calls too, should immediates not run (a fake clock).

const MAX_CALLS = 4096;

export class TurnClock {
  private time = 0;
  private calls = 0;
  private readonly stale = (): void => {
    this.time = 0;
  };

  now(): number {
    if (this.time === 0 || ++this.calls > MAX_CALLS) {
      if (this.time === 0) setImmediate(this.stale);
      this.time = Date.now();
      this.calls = 0;
    }
    return this.time;
  }
}
