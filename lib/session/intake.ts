// What the flow hands the session: a msg's uplinks, under the platform's current names of their
// devices, validated and serialised, all of them before any is queued (all or none), their
// devices announced before their first data, and each msg ended once through its entry
// (msg-entry.ts): no closure and no promise per msg on this path.
import type { Dialect, Prepared } from "../dialect/types";
import { profileProblem } from "../dialect/validate";
import { fail, MsgEntry, MsgGroup, PartEntry, PointEntry, PointPart, type Done, type EndCounter } from "../outbox/msg-entry";
import { OutboxError, type Outbox } from "../outbox/outbox";
import type { Uplink } from "../records";
import type { Announcements } from "./announcements";
import type { DeviceRegistry } from "./registry";
import type { GatewayStats } from "./stats";

export interface SendOptions {
  /** Announce the device (with this profile) before its first uplink. Default true. */
  autoConnect?: boolean;
  profile?: string;
}

/** What the intake needs of its session. */
export interface IntakeContext {
  dialect: Dialect;
  outbox: Outbox;
  /** The platform's current names of the flow's devices. */
  registry: DeviceRegistry;
  announcements: Announcements;
  stats: GatewayStats;
  /** Told how each msg ended (the statistics and the session's watcher). */
  ends: EndCounter;
}

export class MsgIntake {
  constructor(private readonly ctx: IntakeContext) {}

  /** One uplink; the promise settles when the server acknowledged it. */
  send(uplink: Uplink, options: SendOptions): Promise<void> {
    const u = this.renamed(uplink);
    const problem = optionsProblem(options) ?? this.ctx.dialect.validate(u);
    if (problem) return Promise.reject(new OutboxError(problem, "invalid"));
    this.announceFor(u, options);
    return this.ctx.outbox.accept(u);
  }

  /** A msg's uplinks (GatewaySession.submit): queued all, or (one invalid) none, and `done` called once. */
  take(given: readonly Uplink[], options: SendOptions, done: Done, label: string | undefined): void {
    const { outbox, stats, ends } = this.ctx;
    const bad = optionsProblem(options);
    if (bad) return this.refuse(given, new OutboxError(bad, "invalid"), done, label);
    if (given.length === 1) {
      // The common case: one uplink, no counting of parts.
      const u = this.renamed(given[0]);
      const p = this.check(u, false);
      if (typeof p === "string") return this.refuse(given, new OutboxError(p, "invalid"), done, label);
      stats.accepted(u, p);
      this.announceFor(u, options);
      // One telemetry point (most msgs): the entry holds the point, not the uplink around it.
      const entry = u.kind === "telemetry" && u.points.length === 1 ? new PointEntry(u.device, u.points[0], p, done, ends, label) : new MsgEntry(u, p, done, ends, label);
      return outbox.push(entry, true);
    }
    const uplinks = given.map((u) => this.renamed(u));
    // Validated and serialised, all of them, before any is queued.
    const prepared: Prepared[] = [];
    for (const u of uplinks) {
      const p = this.check(u, true); // a msg of several: the error names the device
      if (typeof p === "string") return this.refuse(given, new OutboxError(p, "invalid"), done, label);
      prepared.push(p);
    }
    if (uplinks.length === 0) {
      stats.received(given);
      return done(); // nothing to send
    }
    const group = new MsgGroup(uplinks.length, done, ends, label);
    for (let i = 0; i < uplinks.length; i++) {
      const u = uplinks[i];
      stats.accepted(u, prepared[i], i > 0);
      this.announceFor(u, options);
      outbox.push(u.kind === "telemetry" && u.points.length === 1 ? new PointPart(u.device, u.points[0], prepared[i], group) : new PartEntry(u, prepared[i], group), true);
    }
  }

  /** The uplink validated and serialised, or what is wrong with it (naming its device when the msg has several). */
  private check(u: Uplink, named: boolean): Prepared | string {
    const problem = this.ctx.dialect.validate(u) ?? this.ctx.outbox.prepare(u);
    if (typeof problem !== "string" && !(problem instanceof OutboxError)) return problem;
    const message = typeof problem === "string" ? problem : problem.message;
    return named && "device" in u ? `"${u.device}": ${message}` : message;
  }

  /** A msg not accepted: counted, and its sender told at once. */
  private refuse(given: readonly Uplink[], err: OutboxError, done: Done, label: string | undefined): void {
    this.ctx.stats.received(given);
    this.ctx.ends.ended(err);
    fail(done, err, label);
  }

  /** The uplink under the platform's current name of its device (the flow may use an old one). */
  private renamed(u: Uplink): Uplink {
    if (!("device" in u)) return u;
    const now = this.ctx.registry.current(u.device);
    return now === u.device ? u : { ...u, device: now };
  }

  private announceFor(uplink: Uplink, options: SendOptions): void {
    if ("device" in uplink && uplink.kind !== "connect" && uplink.kind !== "disconnect" && options.autoConnect !== false) {
      this.ctx.announcements.device(uplink.device, options.profile);
    }
  }
}

/** A profile announced with a device is held and re-published after every reconnect: it must validate. */
function optionsProblem(options: SendOptions): string | null {
  return options.autoConnect === false ? null : profileProblem(options.profile);
}
