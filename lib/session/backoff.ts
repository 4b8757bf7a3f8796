// Reconnect delays: exponential from `minMs` to `maxMs`, with "equal jitter" (half fixed, half
// random) so that a cabinet full of gateways does not reconnect in lockstep after an outage.
export interface BackoffOptions {
  minMs: number;
  maxMs: number;
}

export class Backoff {
  private attempt = 0;

  constructor(private readonly opts: BackoffOptions, private readonly random: () => number = Math.random) {}

  next(): number {
    const base = Math.min(this.opts.maxMs, this.opts.minMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return Math.round(base / 2 + (this.random() * base) / 2);
  }

  reset(): void {
    this.attempt = 0;
  }
}
