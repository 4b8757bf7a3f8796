// What a benchmark run on its own (`node dist/bench/<name>.js`) needs around it: a private
// mosquitto, the point counter, the workload (`--msgs N` changes its size), and an exit code.
import type { PointCounter } from "./counter";
import type { Broker } from "./mosquitto";
import type { Workload } from "./workload";

export function runStandalone(body: (broker: Broker, counter: PointCounter, w: Workload) => Promise<void>): void {
  void (async () => {
    const { startMosquitto } = await import("./mosquitto");
    const { PointCounter } = await import("./counter");
    const { DEFAULT_WORKLOAD } = await import("./workload");
    const i = process.argv.indexOf("--msgs");
    const w = { ...DEFAULT_WORKLOAD, msgs: i > 0 ? Number(process.argv[i + 1]) : DEFAULT_WORKLOAD.msgs };
    const broker = await startMosquitto();
    const counter = await PointCounter.connect(broker.url);
    try {
      await body(broker, counter, w);
    } finally {
      await counter.close();
      await broker.stop();
    }
    process.exit(0);
  })().catch((err: Error) => {
    console.error(err.stack ?? err);
    process.exit(1);
  });
}
