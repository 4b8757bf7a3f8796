// Publishes that the platform acknowledges itself, by a key (a message id), beyond the PUBACK:
// their uplinks are delivered when that ack arrives. A failure ack is the platform's no (the
// uplinks fail, with its reason); no ack in time fails them too, never a hang. A lost connection
// fails the waiting ones as a connection failure, so the outbox sends them again.
import { PublishRefused, type Transport } from "../outbox/outbox";

interface Waiting {
  resolve: () => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/** A publish the platform may still refuse (by its failure key) until its PUBACK arrives. */
interface Vetoable {
  failure?: string;
}

export class UplinkAcks {
  private readonly waiting = new Map<string, Waiting>();
  /** By failure key, oldest first: a refusal fails the oldest publish of its key not yet refused. */
  private readonly vetoable = new Map<string, Vetoable[]>();

  constructor(
    private readonly keyOf: ((topic: string, payload: Buffer) => string | undefined) | undefined,
    private readonly timeoutMs: number,
    private readonly failureKeyOf?: (topic: string) => string | undefined,
  ) {}

  get size(): number {
    return this.waiting.size;
  }

  /** The transport whose publishes settle on the platform's ack where the dialect says one comes. */
  wrap(transport: Transport): Transport {
    const keyOf = this.keyOf;
    const failureKeyOf = this.failureKeyOf;
    if (!keyOf && !failureKeyOf) return transport;
    return {
      publish: (topic, payload) => {
        const vetoKey = failureKeyOf?.(topic);
        if (vetoKey !== undefined) return this.vetoed(vetoKey, transport.publish(topic, payload));
        const key = keyOf?.(topic, payload);
        if (key === undefined) return transport.publish(topic, payload);
        // Registered before the publish: the ack may arrive before the PUBACK is processed.
        const acked = this.expect(key, topic);
        acked.catch(() => undefined); // observed below unless the publish itself fails first
        return transport.publish(topic, payload).then(
          () => acked,
          (err: Error) => {
            this.drop(key);
            throw err;
          },
        );
      },
    };
  }

  private vetoed(key: string, published: Promise<void>): Promise<void> {
    const v: Vetoable = {};
    let list = this.vetoable.get(key);
    if (!list) this.vetoable.set(key, (list = []));
    list.push(v);
    const forget = (): void => {
      const l = this.vetoable.get(key);
      if (!l) return;
      const i = l.indexOf(v);
      if (i >= 0) l.splice(i, 1);
      if (l.length === 0) this.vetoable.delete(key);
    };
    return published.then(
      () => {
        forget();
        if (v.failure !== undefined) throw new PublishRefused(v.failure, 0x80);
      },
      (err: Error) => {
        forget();
        throw err;
      },
    );
  }

  /** The platform's ack of `key`; false when nothing waits for it (late, or not ours). */
  settle(key: string, error?: string): boolean {
    if (error !== undefined) {
      const v = this.vetoable.get(key)?.find((x) => x.failure === undefined);
      if (v) {
        v.failure = error;
        return true;
      }
    }
    const w = this.waiting.get(key);
    if (!w) return false;
    this.drop(key);
    if (error === undefined) w.resolve();
    else w.reject(new PublishRefused(`the platform answered with a failure: ${error}`, 0x80));
    return true;
  }

  /** The connection is gone: every wait ends as a connection failure (the outbox requeues). */
  lost(): void {
    for (const [key, w] of [...this.waiting]) {
      this.drop(key);
      w.reject(new Error("the connection was lost before the platform's acknowledgement"));
    }
  }

  private expect(key: string, topic: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(key);
        reject(new PublishRefused(`no acknowledgement from the platform within ${this.timeoutMs} ms (${topic})`, 0x80));
      }, this.timeoutMs);
      this.waiting.set(key, { resolve, reject, timer });
    });
  }

  private drop(key: string): void {
    const w = this.waiting.get(key);
    if (!w) return;
    clearTimeout(w.timer);
    this.waiting.delete(key);
  }
}
