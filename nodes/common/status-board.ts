// The status every user of a gateway-config shows: pushed to all of them, only when it changed,
// and at most once a second (a change of the session's state at once), so that ten thousand
// refused msgs do not make ten thousand status events.
import type { Node, NodeStatus } from "node-red";

const EVERY_MS = 1000;

export class StatusBoard {
  private shown = "";
  private shownAt = 0;
  private pending: NodeJS.Timeout | undefined;
  private readonly ticker: NodeJS.Timeout;

  /** `current` says what to show now; it is asked again every second (counts and ages move). */
  constructor(private readonly users: Map<string, Node>, private readonly current: () => NodeStatus) {
    this.ticker = setInterval(() => this.refresh(), EVERY_MS);
    this.ticker.unref?.();
  }

  /** `urgent`: a change of state, shown at once; anything else waits for its turn. */
  refresh(urgent = false): void {
    if (this.pending && !urgent) return;
    if (this.pending) clearTimeout(this.pending);
    this.pending = undefined;
    const wait = urgent ? 0 : this.shownAt + EVERY_MS - Date.now();
    if (wait <= 0) return this.push();
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.push();
    }, wait);
  }

  close(): void {
    clearInterval(this.ticker);
    if (this.pending) clearTimeout(this.pending);
    this.pending = undefined;
  }

  private push(): void {
    const status = this.current();
    const key = `${status.fill}|${status.shape}|${status.text}`;
    this.shownAt = Date.now();
    if (key === this.shown) return;
    this.shown = key;
    for (const u of this.users.values()) u.status(status);
  }
}
