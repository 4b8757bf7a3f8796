// A real mosquitto on a random loopback port, with persistence, that can be stopped and started
// again on the same port and the same database (what a broker restart looks like to a gateway).
import { spawn, type ChildProcess } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { hasCommand } from "../support/peers";

export const MOSQUITTO = ["/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"].find((p) => fs.existsSync(p)) ?? (hasCommand("mosquitto") ? "mosquitto" : undefined);

export function mosquittoAvailable(): boolean {
  return MOSQUITTO !== undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export class Mosquitto {
  private child: ChildProcess | undefined;
  private frozen = false;
  log = "";

  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** Starts on a free port; retries when another process takes the port in between. */
  static async start(): Promise<Mosquitto> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "iot-gw-mosquitto-"));
    // Run as root, mosquitto drops to an unprivileged user that must write its database here.
    fs.chmodSync(dir, 0o777);
    for (let attempt = 1; ; attempt++) {
      const m = new Mosquitto(dir, await freePort());
      try {
        await m.restart();
        return m;
      } catch (err) {
        if (attempt >= 3 || !/Address already in use/i.test(m.log)) {
          fs.rmSync(dir, { recursive: true, force: true });
          throw err;
        }
      }
    }
  }

  /** (Re)starts on the same port and persistence database. */
  async restart(): Promise<void> {
    if (this.child) throw new Error("mosquitto is already running");
    const conf = path.join(this.dir, "mosquitto.conf");
    fs.writeFileSync(
      conf,
      [
        `listener ${this.port} 127.0.0.1`,
        "allow_anonymous true",
        "persistence true",
        `persistence_location ${this.dir}/`,
        "autosave_interval 1",
        "max_queued_messages 0", // no limit: the default (1000) would drop for an offline subscriber
        "log_dest stderr",
        "log_type error",
        "log_type warning",
        "log_type notice",
        "log_type information",
        "",
      ].join("\n"),
    );
    fs.chmodSync(conf, 0o644);
    const child = spawn(MOSQUITTO!, ["-c", conf], { stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    const onData = (b: Buffer): void => {
      this.log += b.toString();
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", () => {
      if (this.child === child) this.child = undefined;
    });
    // Ready when it accepts a TCP connection.
    const end = Date.now() + 10000;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`mosquitto exited at start:\n${this.log}`);
      if (await this.accepts()) return;
      if (Date.now() > end) {
        await this.stop("SIGKILL");
        throw new Error(`mosquitto did not listen on ${this.port} within 10 s:\n${this.log}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  private accepts(): Promise<boolean> {
    return new Promise((resolve) => {
      const s = net.connect(this.port, "127.0.0.1");
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
  }

  /** Freezes the broker (SIGSTOP): connections stay open, nothing is read or acknowledged. */
  freeze(): void {
    if (!this.child) throw new Error("mosquitto is not running");
    this.child.kill("SIGSTOP");
    this.frozen = true;
  }

  /** Stops the broker and waits until the process is gone. SIGTERM saves the database first. */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    const child = this.child;
    if (!child) return;
    const gone = new Promise<void>((r) => child.once("exit", () => r()));
    child.kill(signal);
    if (this.frozen) child.kill("SIGCONT"); // a frozen process takes its SIGTERM once it runs
    this.frozen = false;
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await gone;
    clearTimeout(timer);
    this.child = undefined;
  }

  async dispose(): Promise<void> {
    await this.stop("SIGKILL");
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
