// Correlation of requests with their answers by id. Each request owns its timer: ThingsBoard
// sends nothing when an attribute lookup fails, so a timeout is the only answer in that case.
export class PendingRequests<T> {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: T) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();

  get size(): number {
    return this.pending.size;
  }

  /** Reserves an id and returns it with the promise of its answer. */
  open(timeoutMs: number, describe: () => string): { id: number; answer: Promise<T> } {
    const id = this.nextId;
    this.nextId = this.nextId >= 0x7fffffff ? 1 : this.nextId + 1;
    const answer = new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${describe()}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
    });
    return { id, answer };
  }

  /** Settles request `id`; false when nothing waits for it (late or unknown answer). */
  settle(id: number, value: T): boolean {
    const p = this.pending.get(id);
    if (!p) return false;
    clearTimeout(p.timer);
    this.pending.delete(id);
    p.resolve(value);
    return true;
  }

  fail(id: number, err: Error): void {
    const p = this.pending.get(id);
    if (!p) return;
    clearTimeout(p.timer);
    this.pending.delete(id);
    p.reject(err);
  }

  failAll(err: Error): void {
    for (const id of [...this.pending.keys()]) this.fail(id, err);
  }
}
