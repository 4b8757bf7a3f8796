// Accept times, read once per turn of the event loop: Date.now() measures ~70 ns a call on this
// machine (a call into the runtime), as much as a quarter of the disk store's own work per msg,
// and the msgs of one turn (a Node-RED delivery of queued msgs) are accepted in the same few ms.
// The time read first in a turn is kept until the microtasks after it run: no msg gets a time
// older than the synchronous run it arrived in.

export class TurnClock {
  private time = 0;
  private readonly stale = (): void => {
    this.time = 0;
  };

  now(): number {
    if (this.time === 0) {
      this.time = Date.now();
      queueMicrotask(this.stale);
    }
    return this.time;
  }
}
