// The drain of issue 7: a backlog of 100,000 data points built while the server was away goes out
// after the reconnect under ThingsBoard's rate limit of 1000:1 telemetry data points, without a
// single refusal or disconnect, and at what share of the budget the gateway may use (80 %).
// In-process: the engine's GatewaySession against the ThingsBoard emulator, which enforces the
// limits it announces exactly as the server does.
import { ThingsBoardEmulator } from "../emulator/thingsboard";
import { dialectFor } from "../lib/dialect";
import { GatewaySession } from "../lib/session/session";

export interface DrainResult {
  points: number;
  seconds: number;
  pointsPerSecond: number;
  budget: number;
  refusals: number;
  disconnects: number;
  errors: number;
}

const NO_LIMIT = { messages: "", telemetryMessages: "", telemetryDataPoints: "" };

export async function runDrain(points = 100000, limit = "1000:1", devices = 100): Promise<DrainResult> {
  const probe = await ThingsBoardEmulator.start();
  const port = Number(new URL(probe.url).port);
  await probe.stop();
  const session = new GatewaySession({
    url: `mqtt://127.0.0.1:${port}`,
    dialect: dialectFor("thingsboard"),
    credentials: { accessToken: "GATEWAY_TOKEN" },
    reconnect: { minMs: 200, maxMs: 500 },
    outbox: { maxQueued: points },
  });
  let errors = 0;
  let done = 0;
  session.start();
  const msgs = points / 2;
  for (let i = 0; i < msgs; i++) {
    session.submit([{ kind: "telemetry", device: `Meter ${i % devices}`, points: [{ ts: 1700000000000 + i, values: { a: i, b: -i } }] }], {}, (err) => {
      if (err) errors++;
      else done++;
    });
  }
  const emu = await ThingsBoardEmulator.start({
    port,
    recordTelemetry: false,
    sessionLimits: { gatewayRateLimits: { ...NO_LIMIT, telemetryDataPoints: limit }, rateLimits: NO_LIMIT },
  });
  const started = Date.now();
  try {
    await emu.waitFor(() => done + errors === msgs, points * 10);
  } finally {
    await session.stop();
  }
  const seconds = (Date.now() - started) / 1000;
  const capacity = limit.split(",").map((p) => p.split(":").map(Number)).reduce((m, [c, s]) => Math.min(m, c / s), Infinity);
  const result: DrainResult = {
    points: emu.counters.telemetryValues,
    seconds,
    pointsPerSecond: emu.counters.telemetryValues / seconds,
    budget: capacity * 0.8,
    refusals: emu.journal().filter((e) => e.kind === "refused").length,
    disconnects: emu.closedReasons().length,
    errors,
  };
  await emu.stop();
  return result;
}

export function printDrain(r: DrainResult): void {
  const share = r.pointsPerSecond / r.budget;
  console.log(
    `drain under rate limits: ${r.points.toLocaleString("en-US")} points in ${r.seconds.toFixed(1)} s, ${Math.round(r.pointsPerSecond)} points/s against a budget of ${r.budget} points/s (80 % of 1000:1): ` +
      `${(share * 100).toFixed(1)} % of the budget (target ≥ 90 %: ${share >= 0.9 ? "met" : "NOT met"}), ${r.refusals} refusals, ${r.disconnects} disconnects, ${r.errors} errors`,
  );
}

if (require.main === module) {
  runDrain(Number(process.argv[2] ?? 100000)).then(
    (r) => {
      printDrain(r);
      process.exit(0);
    },
    (err: Error) => {
      console.error(err.stack ?? err);
      process.exit(1);
    },
  );
}
