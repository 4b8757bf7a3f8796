import 'should';
import { ThingsBoardEmulator } from '../../emulator/thingsboard';
import { Client, closed, end, gateway, publish } from './mqtt-client';

describe('ThingsBoard emulator: malformed and oversize publishes (MQTT 3.1.1)', () => {
  let emu: ThingsBoardEmulator;
  let c: Client | undefined;

  beforeEach(async () => {
    emu = await ThingsBoardEmulator.start();
    c = await gateway(emu.url);
  });
  afterEach(async () => {
    await end(c);
    await emu.stop();
  });

  /** Publishes and expects the server to close the connection without a PUBACK. */
  async function expectClose(topic: string, payload: string | Buffer): Promise<void> {
    let acked = false;
    c!.publish(topic, payload, { qos: 1 }, (err) => (acked = !err));
    await closed(c!);
    acked.should.be.false();
    await emu.waitFor(() => !emu.gatewayConnected());
  }

  const malformed: Array<[string, string, string]> = [
    ['unparsable JSON', 'v1/gateway/telemetry', '{"A":[{"t":1}]'],
    ['a payload that is not an object', 'v1/gateway/telemetry', '[{"t":1}]'],
    ['a connect without device', 'v1/gateway/connect', '{"type":"x"}'],
    ['a disconnect without device', 'v1/gateway/disconnect', '{}'],
    ['an attribute request without client', 'v1/gateway/attributes/request', '{"id":1,"device":"A","key":"k"}'],
    ['an attribute request without id', 'v1/gateway/attributes/request', '{"device":"A","client":true,"key":"k"}'],
    ['an rpc reply without id', 'v1/gateway/rpc', '{"device":"A","data":{}}'],
    ['a telemetry element that is not an object', 'v1/gateway/telemetry', '{"A":[1]}'],
  ];
  for (const [what, topic, payload] of malformed) {
    it(`closes the gateway connection on ${what}`, async () => {
      await expectClose(topic, payload);
      emu.closedReasons().length.should.equal(1);
      emu.closedReasons()[0].should.startWith('Gateway: malformed');
    });
  }

  it('deregisters the devices of the closed session and stores nothing from the bad message', async () => {
    await publish(c!, 'v1/gateway/connect', { device: 'A' });
    await expectClose('v1/gateway/telemetry', '{"A":[{"t":1}],"B":[2]}');
    emu.telemetry('A').should.be.empty();
    emu.device('A')!.connected.should.be.false();
  });

  it('checks the remaining length, not the payload: accepts a packet of exactly the max and closes on one byte more', async () => {
    const body = (n: number) => {
      const head = '{"A":[{"s":"';
      const tail = '"}]}';
      return head + 'x'.repeat(n - head.length - tail.length) + tail;
    };
    // remaining length on MQTT 3.1.1 = topic (2 + 20 bytes) + packet id (2) + payload
    const fits = 65536 - 24;
    await publish(c!, 'v1/gateway/telemetry', body(fits));
    emu.telemetry('A').length.should.equal(1);
    emu.largestPublish().should.equal(65536);
    // the case: a 65,518-byte payload is a 65,542-byte packet
    await expectClose('v1/gateway/telemetry', body(65518));
    emu.closedReasons()[0].should.match(/oversize: a 65542-byte packet \(remaining length\) > max 65536/);
  });

  it('enforces a lowered limit, and getSessionLimits reports it', async () => {
    emu.setMaxPayload(100);
    emu.sessionLimits().maxPayloadSize.should.equal(100);
    await publish(c!, 'v1/gateway/telemetry', { A: [{ t: 1 }] });
    await expectClose('v1/gateway/telemetry', JSON.stringify({ A: [{ s: 'y'.repeat(100) }] }));
    emu.closedReasons()[0].should.match(/oversize/);
  });

  it('acknowledges a publish only after every device in it was accepted', async () => {
    await publish(c!, 'v1/gateway/telemetry', { A: [{ t: 1 }], B: [{ t: 2 }], C: [{ t: 3 }] });
    // the PUBACK arrived, so all three are already stored: no waiting needed
    ['A', 'B', 'C'].map((d) => emu.telemetry(d).length).should.eql([1, 1, 1]);
  });

  it('accepts (and journals as refused) a publish on an unknown topic without closing', async () => {
    await publish(c!, 'v1/something/else', { a: 1 });
    emu.gatewayConnected().should.be.true();
    emu.journal().some((j) => j.kind === 'refused' && j.topic === 'v1/something/else').should.be.true();
  });
});
