import 'should';
import { ThingsBoardEmulator } from '../../emulator/thingsboard';
import { Client, closed, end, gateway, publish } from './mqtt-client';

describe('ThingsBoard emulator: uplinks', () => {
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

  it('stores {ts, values} elements with their ts and flat {k:v} elements at server time, in order', async () => {
    const before = Date.now();
    await publish(c!, 'v1/gateway/telemetry', { A: [{ ts: 1000, values: { t: 1 } }, { t: 2, h: 3 }], B: [{ ts: 2000, values: { p: 4 } }] });
    const a = emu.telemetry('A');
    a.length.should.equal(2);
    a[0].should.eql({ ts: 1000, values: { t: 1 }, serverTs: false });
    a[1].values.should.eql({ t: 2, h: 3 });
    a[1].serverTs.should.be.true();
    a[1].ts.should.be.within(before, Date.now());
    emu.telemetry('B').should.eql([{ ts: 2000, values: { p: 4 }, serverTs: false }]);
    emu.counters.telemetryPoints.should.equal(3);
    emu.counters.telemetryValues.should.equal(4);
  });

  it('skips a device whose value is not an array (with a warning) and keeps the others', async () => {
    await publish(c!, 'v1/gateway/telemetry', { A: { t: 1 }, B: [{ t: 2 }] });
    emu.telemetry('A').should.be.empty();
    emu.telemetry('B').length.should.equal(1);
    emu.journal().some((j) => j.kind === 'refused' && String((j.detail as { reason: string }).reason).includes('"A"')).should.be.true();
    emu.gatewayConnected().should.be.true();
  });

  it('treats telemetry with no array at all (the seed\'s "simplified format") as malformed and closes the connection', async () => {
    let acked = false;
    c!.publish('v1/gateway/telemetry', JSON.stringify({ A: { t: 1 } }), { qos: 1 }, (err) => (acked = !err));
    await closed(c!);
    acked.should.be.false();
    emu.telemetry('A').should.be.empty();
    emu.closedReasons().some((r) => r.includes('malformed')).should.be.true();
  });

  it('auto-connects a never-connected device with profile "default" before storing its data', async () => {
    await publish(c!, 'v1/gateway/telemetry', { Fresh: [{ v: 1 }] });
    emu.device('Fresh')!.should.containEql({ profile: 'default', gateway: 'Gateway', connected: true });
    const j = emu.journal().filter((e) => e.device === 'Fresh');
    j.map((e) => e.kind).should.eql(['connect', 'telemetry']);
    (j[0].detail as { auto: boolean }).auto.should.be.true();
  });

  it('creates a device with the connect type, and never changes the profile of an existing device', async () => {
    await publish(c!, 'v1/gateway/connect', { device: 'T1', type: 'thermometer' });
    emu.device('T1')!.profile.should.equal('thermometer');
    await publish(c!, 'v1/gateway/connect', { device: 'T1', type: 'other' });
    await publish(c!, 'v1/gateway/connect', { device: 'T2' });
    emu.device('T1')!.profile.should.equal('thermometer');
    emu.device('T2')!.profile.should.equal('default');
  });

  it('disconnect deregisters the device from the session', async () => {
    await publish(c!, 'v1/gateway/connect', { device: 'D' });
    emu.device('D')!.connected.should.be.true();
    await publish(c!, 'v1/gateway/disconnect', { device: 'D' });
    emu.device('D')!.connected.should.be.false();
    await emu.callRpc('D', 'x', {}).should.be.rejectedWith(/offline/);
  });

  it('stores client attributes per device, skipping non-object values', async () => {
    await publish(c!, 'v1/gateway/attributes', { A: { fw: '1.2', n: 3 }, B: 'nope' });
    emu.clientAttributes('A').should.eql({ fw: '1.2', n: 3 });
    (emu.device('B') === undefined).should.be.true();
  });

  it('records claims with optional secretKey and durationMs', async () => {
    await publish(c!, 'v1/gateway/claim', { A: { secretKey: 'k', durationMs: 60000 }, B: {} });
    emu.claims('A').should.eql([{ secretKey: 'k', durationMs: 60000 }]);
    emu.claims('B').should.eql([{}]);
  });

  it('records the gateway\'s own telemetry and attributes from v1/devices/me/*', async () => {
    await publish(c!, 'v1/devices/me/telemetry', { cpu: 5 });
    await publish(c!, 'v1/devices/me/attributes', { version: '1' });
    emu.telemetry('Gateway')[0].values.should.eql({ cpu: 5 });
    emu.clientAttributes('Gateway').should.eql({ version: '1' });
  });

  it('counts only, without storing points, when recordTelemetry is false', async () => {
    const quiet = await ThingsBoardEmulator.start({ recordTelemetry: false });
    const g = await gateway(quiet.url);
    try {
      await publish(g, 'v1/gateway/telemetry', { A: [{ a: 1 }, { a: 2 }] });
      quiet.counters.should.containEql({ publishes: 1, telemetryMessages: 1, telemetryPoints: 2, telemetryValues: 2 });
      quiet.telemetry('A').should.be.empty();
      quiet.device('A')!.connected.should.be.true();
    } finally {
      await end(g);
      await quiet.stop();
    }
  });
});
