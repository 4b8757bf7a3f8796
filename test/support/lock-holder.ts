// A second process holding a store folder's lock (the lock test kills it to leave a stale lock).
import { DirLock } from "../../lib/outbox/store/lock";

DirLock.acquire(process.argv[2]);
process.send?.("locked");
setInterval(() => undefined, 1000);
