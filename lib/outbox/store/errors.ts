// The errors a store ends a msg with. `code` lets a Catch node's flow tell them apart.
export type StoreErrorCode = "full" | "expired" | "unwritable" | "closed" | "lost" | "invalid";

export class StoreError extends Error {
  constructor(message: string, readonly code: StoreErrorCode) {
    super(message);
    this.name = "StoreError";
  }
}

/** "EACCES: permission denied, open '/x'" → a sentence a user can act on. */
export function describeFsError(err: unknown, what: string): string {
  const e = err as NodeJS.ErrnoException;
  const hint: Record<string, string> = {
    EACCES: "permission denied",
    EPERM: "not permitted",
    EROFS: "the file system is read-only",
    ENOSPC: "the disk is full",
    EDQUOT: "the disk quota is exhausted",
    ENOTDIR: "a part of the path is a file, not a folder",
    EIO: "an input/output error (failing disk or card?)",
  };
  return `${what}: ${(e.code && hint[e.code]) || e.message || String(err)}${e.code ? ` (${e.code})` : ""}`;
}
