// Small helpers of the emulators' test APIs: waiting for a condition, and keeping a history bounded.

/** Polls `probe` every 10 ms until it returns something truthy; rejects after `timeoutMs`. */
export async function waitFor<R>(probe: () => R | undefined | false | null, timeoutMs = 5000, what = 'condition'): Promise<R> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Keeps the last `keep` entries of `list` (an emulator left running stays bounded). */
export function cut<T>(list: T[], keep: number): void {
  const n = list.length - keep;
  if (n > 0) list.splice(0, n);
}
