// Small helpers of the disk store's reporting: rates for "how long until the cap", a summary of
// losses that no msg can carry any more (its done() came already), and readable sizes.

/** Bytes per second, smoothed over the last few seconds (ticked once a second). */
export class RateMeter {
  private acc = 0;
  private last = Date.now();
  private value = 0;

  add(bytes: number): void {
    this.acc += bytes;
  }

  tick(now = Date.now()): void {
    const dt = (now - this.last) / 1000;
    if (dt <= 0) return;
    const sample = this.acc / dt;
    this.value = this.value === 0 ? sample : 0.7 * this.value + 0.3 * sample;
    this.acc = 0;
    this.last = now;
  }

  rate(): number {
    return this.value;
  }
}

/**
 * Entries dropped or refused after their msg was done (stored, or from a previous run) have
 * no msg to carry the error: they are counted, and summed up in one warning per reason and
 * second instead of one per entry.
 */
export class LossReport {
  private readonly pending = new Map<string, number>();

  constructor(private readonly warn: (message: string) => void) {}

  note(reason: string): void {
    this.pending.set(reason, (this.pending.get(reason) ?? 0) + 1);
  }

  flush(): void {
    for (const [reason, n] of this.pending) this.warn(`${n} stored msg${n === 1 ? " was" : "s were"} dropped (their done() came when they were stored): ${reason}`);
    this.pending.clear();
  }
}

export function fmtBytes(n: number): string {
  if (n >= 1024 * 1024 * 1024) return `${(n / (1024 * 1024 * 1024)).toFixed(1)} GiB`;
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} bytes`;
}

export function fmtAge(ms: number): string {
  if (ms >= 86400000) return `${(ms / 86400000).toFixed(1)} d`;
  if (ms >= 3600000) return `${(ms / 3600000).toFixed(1)} h`;
  if (ms >= 60000) return `${(ms / 60000).toFixed(1)} min`;
  return `${(ms / 1000).toFixed(1)} s`;
}
