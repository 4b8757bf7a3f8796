// The editor's test platform: emulators of ThingsBoard, ThingsPanel and Watson IoT started inside
// the Node-RED process on a local port, so that a palette user can try every node and example
// without a platform of their own. One registry per process (a redeploy keeps them running);
// the admin routes in test-platform-routes.ts are its only caller. No node-red import here.
import { launchPlatform } from "./test-platform-adapters";
import { PLATFORMS, TestPlatformError, type Action, type DeviceView, type PlatformInfo, type PlatformKind, type Running, type SendRequest, type SendResult } from "./test-platform-types";

export * from "./test-platform-types";
export { envelope } from "./test-platform-adapters";

export interface TestPlatformsOptions {
  /** how much history each platform keeps: telemetry points / events per device, journal entries (default 1000) */
  keep?: number;
  /** how often the history is cut back to that (default 60 s) */
  everyMs?: number;
}

/** The platforms running in this process, by id ("thingsboard-41883"). */
export class TestPlatforms {
  private readonly running = new Map<string, Running>();
  private readonly starting = new Set<Promise<unknown>>();
  private sweeper: NodeJS.Timeout | undefined;
  private readonly keep: number;
  private readonly everyMs: number;

  constructor(opts: TestPlatformsOptions = {}) {
    this.keep = opts.keep ?? 1000;
    this.everyMs = opts.everyMs ?? 60000;
  }

  /** A platform left running for days (simulated sensors every 2 s) keeps only its latest history. */
  private sweep(): void {
    if (this.running.size === 0) {
      if (this.sweeper) clearInterval(this.sweeper);
      this.sweeper = undefined;
      return;
    }
    if (this.sweeper) return;
    this.sweeper = setInterval(() => {
      for (const r of this.running.values()) r.trim(this.keep);
    }, this.everyMs);
    this.sweeper.unref?.();
  }

  async start(platform: string, port = 0, log?: (line: string) => void): Promise<PlatformInfo> {
    if (!(PLATFORMS as readonly string[]).includes(platform)) throw new TestPlatformError("unknown-platform", 400, { platform });
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TestPlatformError("bad-port", 400, { port: String(port) });
    const kind = platform as PlatformKind;
    const startedAt = Date.now();
    const launch = launchPlatform(kind, port, startedAt, log);
    this.starting.add(launch);
    let r: Running;
    try {
      r = await launch;
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === "EADDRINUSE") throw new TestPlatformError("port-in-use", 409, { port });
      if (err.code === "EACCES") throw new TestPlatformError("port-denied", 409, { port });
      throw new TestPlatformError("start-failed", 500, { reason: err.message });
    } finally {
      this.starting.delete(launch);
    }
    const info = r.info();
    this.running.set(info.id, r);
    this.sweep();
    return info;
  }

  list(): PlatformInfo[] {
    return [...this.running.values()].map((r) => r.info());
  }

  private get(id: string): Running {
    const r = this.running.get(id);
    if (!r) throw new TestPlatformError("not-running", 404, { id });
    return r;
  }

  info(id: string): PlatformInfo {
    return this.get(id).info();
  }

  devices(id: string): DeviceView[] {
    return this.get(id).devices();
  }

  send(id: string, action: Action, req: SendRequest): Promise<SendResult> {
    return this.get(id).send(action, req);
  }

  async stop(id: string): Promise<void> {
    const r = this.get(id);
    this.running.delete(id);
    this.sweep();
    await r.stop();
  }

  /** Node-RED stops: every platform, also one still starting. */
  async stopAll(): Promise<void> {
    await Promise.allSettled([...this.starting]);
    const all = [...this.running.values()];
    this.running.clear();
    this.sweep();
    await Promise.allSettled(all.map((r) => r.stop()));
  }
}

/** One registry per process: Node-RED loads the package once, a test harness many times. */
export const testPlatforms = new TestPlatforms();
