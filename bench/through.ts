// One measured run of a workload through a fresh Node-RED process (bench/nodered.ts), counted at
// both ends: "in" when the flow's msgs are done (the host's onComplete count of node "tel"), "out"
// when the broker delivered their points to the counter. The store bench and the floors use it.
import { now } from "./clock";
import type { PointCounter } from "./counter";
import { GATEWAY_CREDENTIALS, type FlowNode } from "./flows";
import type { Broker } from "./mosquitto";
import { NodeRedHost } from "./nodered";
import type { Workload } from "./workload";

export interface ThroughRun {
  /** Points of done msgs per second, and points per second the broker delivered. */
  inRate: number;
  outRate: number;
  errors: number;
  firstError?: string;
  timedOut: boolean;
  /** CPU time of the Node-RED process per point over the run, µs (steadier than rates on a busy machine). */
  cpuUsPerMsg: number;
}

/** `ready`: the node whose connection the run waits for; `profile`: a .cpuprofile of the measured window. */
export async function throughNodeRed(flows: FlowNode[], ready: string, broker: Broker, counter: PointCounter, w: Workload, timeoutMs: number, profile?: string): Promise<ThroughRun> {
  const host = await startNodeRed(flows, ready);
  try {
    return await measureRun(host, counter, w, 0, timeoutMs, profile);
  } finally {
    await host.stop();
  }
}

/** A Node-RED process with `flows`, once node `ready` is connected (none: the flow publishes nothing) and the session's hold is over. */
export async function startNodeRed(flows: FlowNode[], ready: string | undefined): Promise<NodeRedHost> {
  const host = await NodeRedHost.start({ flows, credentials: GATEWAY_CREDENTIALS });
  try {
    if (ready) await host.ready([ready]);
    // telemetry-out's session holds data up to 3 s after a connect for the server's limits (mosquitto never answers); every run waits alike
    await new Promise((r) => setTimeout(r, 3500));
    return host;
  } catch (err) {
    await host.stop();
    throw err;
  }
}

/**
 * One measured run of `w` through `host`, which had `doneBefore` msgs done before it (runs
 * repeated in one process count on); `publishes` false: nothing reaches the broker (the floor).
 */
export async function measureRun(host: NodeRedHost, counter: PointCounter, w: Workload, doneBefore: number, timeoutMs: number, profile?: string, publishes = true): Promise<ThroughRun> {
  counter.reset();
  const counted = publishes ? counter.waitFor(w.msgs, timeoutMs) : undefined;
  if (profile) await host.profileStart();
  const before = await host.stats();
  const t0 = await host.generate(w);
  const done = await host.waitDone(doneBefore + w.msgs / (w.pointsPerMsg ?? 1), 0, timeoutMs).catch(() => undefined);
  const c = await counted;
  const s = await host.stats();
  if (profile) await host.profileStop(profile);
  return {
    inRate: done ? w.msgs / (((done.at ?? now()) - t0) / 1000) : 0,
    outRate: c && !c.timedOut ? c.points / ((c.lastAt - t0) / 1000) : 0,
    errors: s.errors?.errors ?? 0,
    firstError: s.errors?.firstError,
    timedOut: (c?.timedOut ?? false) || !done,
    cpuUsPerMsg: (s.cpuUs - before.cpuUs) / w.msgs,
  };
}
