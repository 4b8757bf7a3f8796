// A private mosquitto for the benchmark: its own config in a temp dir, a free loopback port,
// anonymous access. Queues are unbounded so that a slow subscriber loses nothing (mosquitto
// drops QoS 1 messages beyond max_queued_messages, which would read as lost points).
import { spawn, type ChildProcess } from "child_process";
import fs from "fs";
import net from "net";
import os from "os";
import path from "path";

export const MOSQUITTO = process.env.MOSQUITTO ?? "/usr/sbin/mosquitto";

export interface Broker {
  url: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(port, "127.0.0.1");
    c.once("connect", () => {
      c.destroy();
      resolve(true);
    });
    c.once("error", () => resolve(false));
  });
}

export async function startMosquitto(): Promise<Broker> {
  if (!fs.existsSync(MOSQUITTO)) throw new Error(`mosquitto not found at ${MOSQUITTO} (set MOSQUITTO=/path/to/mosquitto)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-mosquitto-"));
  const port = await freePort();
  const conf = path.join(dir, "mosquitto.conf");
  fs.writeFileSync(
    conf,
    [`listener ${port} 127.0.0.1`, "allow_anonymous true", "persistence false", "max_queued_messages 0", "max_inflight_messages 100", "log_dest stderr", "log_type error", ""].join("\n"),
  );
  const proc: ChildProcess = spawn(MOSQUITTO, ["-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  proc.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  let exited = false;
  proc.once("exit", () => (exited = true));
  const end = Date.now() + 5000;
  while (!(await canConnect(port))) {
    if (exited || Date.now() > end) {
      proc.kill();
      throw new Error(`mosquitto did not start on port ${port}: ${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    pid: proc.pid ?? -1,
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited) return resolve();
        proc.once("exit", () => {
          fs.rmSync(dir, { recursive: true, force: true });
          resolve();
        });
        proc.kill("SIGTERM");
      }),
  };
}
