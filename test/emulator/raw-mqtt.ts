// A bare MQTT socket for the emulator tests that mqtt.js cannot express (it answers PINGs and
// sends keepalives by itself): write any packet, wait for the next packet of a kind, see the close.
import * as net from 'net';
import * as mqttPacket from 'mqtt-packet';

export class RawMqtt {
  readonly received: mqttPacket.Packet[] = [];
  closed = false;
  private waiters: Array<{ cmd: string; resolve: (p: mqttPacket.Packet) => void }> = [];
  private closeWaiters: Array<() => void> = [];

  private constructor(private readonly socket: net.Socket, private readonly version: 4 | 5) {
    const parser = mqttPacket.parser({ protocolVersion: version });
    parser.on('packet', (p: mqttPacket.Packet) => {
      const i = this.waiters.findIndex((w) => w.cmd === p.cmd);
      if (i >= 0) this.waiters.splice(i, 1)[0].resolve(p);
      else this.received.push(p);
    });
    socket.on('data', (b) => parser.parse(b));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.closeWaiters.splice(0)) w();
    });
  }

  static open(url: string, version: 4 | 5 = 5): Promise<RawMqtt> {
    const u = new URL(url);
    return new Promise((resolve, reject) => {
      const s = net.connect(Number(u.port), u.hostname, () => {
        s.off('error', reject);
        resolve(new RawMqtt(s, version));
      });
      s.once('error', reject);
    });
  }

  send(p: mqttPacket.Packet): void {
    this.socket.write(mqttPacket.generate(p, { protocolVersion: this.version }));
  }

  /** The next packet of this kind (already received ones first). */
  next(cmd: mqttPacket.PacketCmd, timeoutMs = 5000): Promise<mqttPacket.Packet> {
    const i = this.received.findIndex((p) => p.cmd === cmd);
    if (i >= 0) return Promise.resolve(this.received.splice(i, 1)[0]);
    return new Promise((resolve, reject) => {
      const w = {
        cmd,
        resolve: (p: mqttPacket.Packet) => {
          clearTimeout(timer);
          resolve(p);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`no ${cmd} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  whenClosed(timeoutMs = 5000): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the server did not close the connection')), timeoutMs);
      this.closeWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  destroy(): void {
    this.socket.destroy();
  }
}
