// The gateway's announcements of its devices and of itself. A device is announced (its
// "connect") before its first data; while not connected, the next connect announces every
// registered device ahead of the queue instead (session.ts onUp). Where the platform forgets them
// (Watson's manage lifetime: dialect.renewMs), the gateway and every device are announced again
// while connected. The gateway's own announcement (Watson: a managed gateway's manage) goes ahead
// of everything waiting, and the platform's verdict on it is told.
import type { Dialect } from "../dialect/types";
import { OutboxError, type Outbox } from "../outbox/outbox";
import type { Uplink } from "../records";
import type { DeviceRegistry } from "./registry";
import type { DownlinkRouter } from "./router";

/** What the announcements need of their session. */
export interface AnnouncementsContext {
  readonly registry: DeviceRegistry;
  readonly outbox: Outbox;
  readonly router: DownlinkRouter;
  readonly dialect: Dialect;
  connected(): boolean;
  /** The session is stopping: a failure then is its closing, not news. */
  stopping(): boolean;
  warn(message: string): void;
  /** The platform's verdict on the gateway's own announcement: undefined = accepted, else why not. */
  verdict(refusal: string | undefined): void;
}

export class Announcements {
  /** Announces the gateway and its devices again every dialect.renewMs while connected. */
  private renewTimer: NodeJS.Timeout | undefined = undefined;

  constructor(private readonly c: AnnouncementsContext) {}

  /** A device the flow sends data for: registered, and announced now when it is new (or its profile changed) and the session is connected. */
  device(device: string, profile?: string): void {
    const { registry, outbox, router } = this.c;
    if (!registry.add(device, profile)) return;
    // Not connected yet (or again): the next connect announces every registered device ahead of
    // the queue, this one included; a queued connect of its own would go out a second time.
    if (!this.c.connected()) return;
    const profileName = registry.get(device)?.profile;
    outbox.send({ kind: "connect", device, profile: profileName }, false).then(
      () => router.deviceConnected(device),
      (err: Error) => this.c.warn(`announcing "${device}" failed: ${err.message}`),
    );
  }

  /**
   * Connected, the outbox attached: the gateway's own announcement; `separate` (where the platform
   * answers each itself: Watson's manage) the devices' announcements one by one, so that a refusal or
   * silence is a warning; and the renewal started.
   */
  connected(separate: readonly Uplink[]): void {
    this.gateway();
    for (const u of separate) this.c.outbox.sendAhead(u).catch((err: Error) => this.failed(u, err));
    const every = this.c.dialect.renewMs;
    if (every !== undefined && every > 0) {
      this.stop();
      this.renewTimer = setInterval(() => this.renew(), every);
    }
  }

  /** Every registered device's announcement (what a connect sends ahead of the queue). */
  registered(): Uplink[] {
    return [...this.c.registry.all()].map((d) => ({ kind: "connect", device: d.name, profile: d.profile }));
  }

  /** The connection is gone, or the session stops: no renewal until the next connect. */
  stop(): void {
    if (this.renewTimer) clearInterval(this.renewTimer);
    this.renewTimer = undefined;
  }

  /** The gateway's own announcement, ahead of everything waiting. */
  private gateway(): void {
    const u = this.c.dialect.gatewayAnnouncement?.();
    if (!u) return;
    this.c.outbox.sendAhead(u).then(
      () => this.c.verdict(undefined),
      (err: Error) => {
        if (this.c.stopping() || (err instanceof OutboxError && err.code === "closed")) return;
        this.c.warn(`the gateway's own announcement failed: ${err.message}`);
        this.c.verdict(err.message);
      },
    );
  }

  /** Before the platform forgets them: the gateway and every device again. */
  private renew(): void {
    if (!this.c.connected()) return;
    this.gateway();
    for (const u of this.registered()) this.c.outbox.send(u, false).catch((err: Error) => this.failed(u, err));
  }

  private failed(u: Uplink, err: Error): void {
    if (this.c.stopping() || (err instanceof OutboxError && err.code === "closed")) return;
    this.c.warn(`announcing ${"device" in u ? `"${u.device}"` : "the gateway"} again failed: ${err.message}`);
  }
}
