// Provisioning the gateway device on ThingsBoard from a device profile's provision key and secret
// (the request and its answers: lib/dialect/thingsboard-provision.ts): connect with username
// "provision", publish /provision/request, read
// /provision/response, disconnect. The server never provisions one name twice (a second request
// is answered FAILURE), so the caller must keep what it receives and never ask again.
// A refusal or a lost attempt is retried with backoff: a wrong key does not turn into a tight loop
// against the server, and a key fixed on the server side is picked up without a redeploy.
import { randomBytes } from "crypto";
import { EventEmitter } from "events";
import mqtt from "mqtt";
import type { Credentials } from "../dialect/types";
import { credentialsOf, provisionBody, ProvisionRefused, PROVISION_REQUEST_TOPIC, PROVISION_RESPONSE_TOPIC, PROVISION_USERNAME, type ProvisionRequest } from "../dialect/thingsboard-provision";
import { Backoff, type BackoffOptions } from "./backoff";
import { describeConnectError } from "./connect-errors";

export interface ProvisionTarget {
  url: string;
  /** TLS options as `tls.connect` takes them */
  tls?: Record<string, unknown>;
  protocolVersion?: 4 | 5;
  /** How long one attempt (connect, request, answer) may take. Default 20 s. */
  timeoutMs?: number;
}

// what the callers of the connection name, from the protocol half
export { ProvisionRefused, type ProvisionRequest };

/**
 * One attempt: resolves with the credentials received, rejects with a ProvisionRefused or the
 * connection's error. `signal` ends it at once (its connection closed, its timer cleared).
 */
export function provisionOnce(target: ProvisionTarget, req: ProvisionRequest, signal?: AbortSignal): Promise<Credentials> {
  return new Promise<Credentials>((resolve, reject) => {
    if (signal?.aborted) return reject(new Error("provisioning stopped"));
    const client = mqtt.connect(target.url, {
      ...target.tls,
      username: PROVISION_USERNAME,
      clientId: `provision-${randomBytes(4).toString("hex")}`,
      protocolVersion: target.protocolVersion ?? 4,
      reconnectPeriod: 0,
      connectTimeout: target.timeoutMs ?? 20000,
      clean: true,
    });
    let settled = false;
    let lastError: string | undefined;
    const finish = (err: Error | undefined, creds?: Credentials): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      client.end(true);
      if (err) reject(err);
      else resolve(creds as Credentials);
    };
    const timer = setTimeout(() => finish(new Error(lastError ?? "no provisioning answer in time")), target.timeoutMs ?? 20000);
    const onAbort = (): void => finish(new Error("provisioning stopped"));
    signal?.addEventListener("abort", onAbort);
    client.on("error", (err) => (lastError = describeConnectError(err)));
    client.on("close", () => finish(new Error(lastError ?? "connection lost")));
    client.on("message", (topic, payload) => {
      if (topic !== PROVISION_RESPONSE_TOPIC) return;
      let answer: unknown;
      try {
        answer = JSON.parse(payload.toString("utf8"));
      } catch {
        return finish(new ProvisionRefused("INVALID", "the answer is not JSON"));
      }
      const c = credentialsOf(answer);
      if (c instanceof ProvisionRefused) finish(c);
      else finish(undefined, c);
    });
    client.on("connect", () => {
      client.subscribe(PROVISION_RESPONSE_TOPIC, { qos: 1 }, (err) => {
        if (err && !settled) lastError = `subscription refused: ${err.message}`;
        // The server answers on /provision/response subscribed or not: the request goes out anyway.
        client.publish(PROVISION_REQUEST_TOPIC, JSON.stringify(provisionBody(req)), { qos: 1 }, (e) => {
          if (e) lastError = e.message;
        });
      });
    });
  });
}

export type ProvisionState = { state: "provisioning"; reason?: string } | { state: "refused"; status: string; reason: string };

export interface ProvisionerEvents {
  state: [ProvisionState];
  /** An attempt failed (refused by the server, or not answered); the next one is scheduled after `retryMs`. */
  failed: [Error, number];
  provisioned: [Credentials];
}

/** Attempts until the server gives credentials, with backoff between attempts; `stop` ends it. */
export class Provisioner extends EventEmitter<ProvisionerEvents> {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly backoff: Backoff;
  private current: ProvisionState = { state: "provisioning" };
  private readonly abort = new AbortController();

  constructor(private readonly target: ProvisionTarget, private readonly req: ProvisionRequest, backoff: BackoffOptions) {
    super();
    this.backoff = new Backoff(backoff);
  }

  get state(): ProvisionState {
    return this.current;
  }

  start(): this {
    this.attempt();
    return this;
  }

  stop(): void {
    this.stopped = true;
    this.abort.abort();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private setState(s: ProvisionState): void {
    this.current = s;
    this.emit("state", s);
  }

  private attempt(): void {
    if (this.stopped) return;
    // A refusal stays on show while the next attempt runs: the status does not flicker at every retry.
    provisionOnce(this.target, this.req, this.abort.signal).then(
      (creds) => {
        if (this.stopped) return;
        this.emit("provisioned", creds);
      },
      (err: Error) => {
        if (this.stopped) return;
        const retryMs = this.backoff.next();
        if (err instanceof ProvisionRefused) this.setState({ state: "refused", status: err.status, reason: err.reason });
        else this.setState({ state: "provisioning", reason: err.message });
        this.emit("failed", err, retryMs);
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.attempt();
        }, retryMs);
      },
    );
  }
}
