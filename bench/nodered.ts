// The parent's handle on a Node-RED host child process (bench/host.ts).
import { fork, type ChildProcess } from "child_process";
import fs from "fs";
import os from "os";
import path from "path";
import type { Request, StartArgs, Stats } from "./host";
import type { FlowNode } from "./flows";
import type { Workload } from "./workload";

type Without<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;
type Call = Without<Request, "id">;

export interface HostOptions {
  flows: FlowNode[];
  credentials?: Record<string, unknown>;
  logLevel?: string;
}

export class NodeRedHost {
  private seq = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private exited = false;

  private constructor(private readonly child: ChildProcess, readonly userDir: string) {
    child.on("message", (m: { id: number; result?: unknown; error?: string }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.error !== undefined) p.reject(new Error(`Node-RED host: ${m.error}`));
      else p.resolve(m.result);
    });
    child.once("exit", (code) => {
      this.exited = true;
      for (const p of this.pending.values()) p.reject(new Error(`Node-RED host exited (code ${code})`));
      this.pending.clear();
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  static async start(o: HostOptions): Promise<NodeRedHost> {
    const userDir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-nodered-"));
    const execArgv = ["--expose-gc"];
    const child = fork(path.join(__dirname, "host.js"), [], { execArgv, stdio: ["ignore", "inherit", "inherit", "ipc"] });
    const host = new NodeRedHost(child, userDir);
    const args: StartArgs = { userDir, flows: o.flows, credentials: o.credentials ?? {}, logLevel: o.logLevel ?? process.env.BENCH_NODE_RED_LOG ?? "error" };
    await host.call({ cmd: "start", args });
    return host;
  }

  call(c: Call): Promise<unknown> {
    if (this.exited) return Promise.reject(new Error("Node-RED host has exited"));
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ ...c, id });
    });
  }

  ready(ids: string[], timeoutMs = 10000): Promise<void> {
    return this.call({ cmd: "ready", ids, timeoutMs }) as Promise<void>;
  }

  /** Resolves with the time the first msg was injected. */
  generate(workload: Workload): Promise<number> {
    return this.call({ cmd: "generate", workload }) as Promise<number>;
  }

  generated(): Promise<number> {
    return this.call({ cmd: "generated" }) as Promise<number>;
  }

  stats(): Promise<Stats> {
    return this.call({ cmd: "stats" }) as Promise<Stats>;
  }

  gc(rounds = 4): Promise<Stats> {
    return this.call({ cmd: "gc", rounds }) as Promise<Stats>;
  }

  waitDone(done: number, devices: number, timeoutMs: number): Promise<Stats & { at: number }> {
    return this.call({ cmd: "waitDone", done, devices, timeoutMs }) as Promise<Stats & { at: number }>;
  }

  profileStart(): Promise<void> {
    return this.call({ cmd: "profileStart" }) as Promise<void>;
  }

  /** Writes the CPU profile since profileStart() to `file` (.cpuprofile, for Chrome DevTools). */
  profileStop(file: string): Promise<string> {
    return this.call({ cmd: "profileStop", file }) as Promise<string>;
  }

  /** Stops the runtime and the process (also when a call failed half way). */
  async stop(): Promise<void> {
    if (!this.exited) {
      const exit = new Promise<void>((r) => this.child.once("exit", () => r()));
      const kill = setTimeout(() => this.child.kill("SIGKILL"), 15000);
      await this.call({ cmd: "stop" }).catch(() => this.child.kill("SIGTERM"));
      await exit;
      clearTimeout(kill);
    }
    fs.rmSync(this.userDir, { recursive: true, force: true });
  }
}
