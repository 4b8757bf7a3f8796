// A redeploy that moves the disk store (another folder, or the memory store): what waits in the
// old folder, the handed-over msgs with it, goes first to the new session; each is acknowledged
// in the old folder as it is delivered, and the old folder's files are deleted once nothing
// waits there any more. Nothing is left stranded in a folder that nobody reads.
import type { Entry } from "../types";
import { DiskStore } from "./disk";

export interface CarryOverHooks {
  /** Takes the entries, ahead of anything queued since (the outbox's `adopt`). */
  adopt(entries: Entry[]): void;
  warn(message: string): void;
  /** The old folder is empty and its files are gone. */
  emptied(): void;
}

/** Starts emptying `dir`; `close()` stops (what is left stays in the folder for a later successor). */
export function carryOver(dir: string, handedOver: Entry[], hooks: CarryOverHooks): { close(): Promise<void> } {
  const old = new DiskStore({ dir, doneWhen: "acknowledged", maxBytes: 0, maxAgeMs: 0 });
  old.on("warning", (m: string) => hooks.warn(`store ${dir}: ${m}`));
  old.unshift(handedOver); // its own entries: their msgs' callbacks are joined to their records
  let closed: Promise<void> | undefined;
  const close = (removed: boolean): Promise<void> => {
    clearInterval(timer);
    if (!closed) {
      old.clear();
      closed = old.close(removed);
    }
    return closed;
  };
  const timer = setInterval(() => {
    if (old.status === "open" && old.size === 0 && old.bytes === 0) void close(true).then(() => hooks.emptied());
  }, 1000);
  timer.unref?.();
  void old.open().then(() => {
    if (closed) return; // moved again before it opened: the next successor takes it from the folder
    if (old.status !== "open") {
      hooks.warn(`store ${dir}: the previous store folder cannot be read, what waits there stays there`);
      hooks.adopt(old.clear());
      return void close(false);
    }
    hooks.adopt(old.take(Number.MAX_SAFE_INTEGER));
  });
  return { close: () => close(false) };
}
