// System peers (mosquitto, pymodbus, socat, chromium) come from Debian, not npm. Under CI a
// missing peer is a failure; on a developer's machine the test is skipped, loudly.
import { execFileSync } from "child_process";
import * as fs from "fs";

export function hasCommand(cmd: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

export function hasFile(path: string): boolean {
  return fs.existsSync(path);
}

/** Call from a `before` hook: fails under CI=true, skips loudly otherwise. */
export function requirePeer(name: string, available: boolean, ctx: Mocha.Context): void {
  if (available) return;
  if (process.env.CI === "true") {
    throw new Error(`required system peer missing: ${name} (CI installs it in .ci/run)`);
  }
  console.warn(`\n  !!! SKIPPING: system peer "${name}" is not installed; these tests did not run !!!\n`);
  ctx.skip();
}
