// A forked child process driven by request/answer messages over IPC (the Modbus bench's server
// and its client hosts).
import { fork, type ChildProcess } from "child_process";

export class Child {
  private seq = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private exited = false;
  private readonly exit: Promise<void>;

  private constructor(private readonly child: ChildProcess, readonly name: string) {
    child.on("message", (m: { id?: number; result?: unknown; error?: string }) => {
      if (m.id === undefined) return;
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.error !== undefined) p.reject(new Error(`${name}: ${m.error}`));
      else p.resolve(m.result);
    });
    this.exit = new Promise((resolve) => child.once("exit", (code) => {
      this.exited = true;
      for (const p of this.pending.values()) p.reject(new Error(`${name} exited (code ${code})`));
      this.pending.clear();
      resolve();
    }));
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Forks `script` and waits for its first message that has `key` (e.g. {ready: port}). */
  static async start<T>(script: string, name: string, key: string, execArgv: string[] = [], timeoutMs = 20000): Promise<{ child: Child; value: T }> {
    const cp = fork(script, [], { execArgv, stdio: ["ignore", "inherit", "inherit", "ipc"] });
    const child = new Child(cp, name);
    const value = await new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name} did not start within ${timeoutMs} ms`)), timeoutMs);
      const onMsg = (m: Record<string, unknown>): void => {
        if (!(key in m)) return;
        clearTimeout(timer);
        cp.removeListener("message", onMsg);
        resolve(m[key] as T);
      };
      cp.on("message", onMsg);
      cp.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited (code ${code}) before it was ready`));
      });
    });
    return { child, value };
  }

  call<T>(msg: Record<string, unknown>): Promise<T> {
    if (this.exited) return Promise.reject(new Error(`${this.name} has exited`));
    const id = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: (v) => resolve(v as T), reject });
      this.child.send({ ...msg, id });
    });
  }

  /** Asks it to stop; kills it if it has not exited within `ms`. */
  async stop(ms = 10000): Promise<void> {
    if (this.exited) return;
    const timer = setTimeout(() => this.child.kill("SIGKILL"), ms);
    this.call({ cmd: "stop" }).catch(() => undefined);
    await this.exit;
    clearTimeout(timer);
  }
}
