import should from 'should';
import { ThingsBoardEmulator } from '../../emulator/thingsboard';
import { Client, closed, end, gateway, Inbox, publish, subscribe } from './mqtt-client';

describe('ThingsBoard emulator: sub-device sessions live inside one gateway connection', () => {
  let emu: ThingsBoardEmulator;
  let c: Client | undefined;
  let c2: Client | undefined;

  beforeEach(async () => {
    emu = await ThingsBoardEmulator.start();
    c = await gateway(emu.url);
  });
  afterEach(async () => {
    await end(c, c2);
    c2 = undefined;
    await emu.stop();
  });

  it('deregisters every sub-device when the connection drops; RPC and attribute updates reach a device only after the gateway sends for it again', async () => {
    await subscribe(c!, ['v1/gateway/rpc', 'v1/gateway/attributes']);
    await publish(c!, 'v1/gateway/connect', { device: 'A', type: 'pump' });
    await publish(c!, 'v1/gateway/connect', { device: 'B' });

    const wasClosed = closed(c!);
    emu.dropGateway().should.equal(1);
    await wasClosed;
    await emu.waitFor(() => !emu.gatewayConnected());
    emu.devices().map((d) => d.connected).should.eql([false, false]);
    emu.closedReasons().should.containEql('Gateway: dropped by the server (test)');

    c2 = await gateway(emu.url);
    emu.gatewayConnections().should.equal(2);
    const inbox = new Inbox(c2);
    await subscribe(c2, ['v1/gateway/rpc', 'v1/gateway/attributes']);

    // Connected again, but the devices are not: the server says "offline" at once.
    await emu.callRpc('A', 'ping', {}).should.be.rejectedWith(/offline/);
    emu.setSharedAttributes('A', { x: 1 }).should.be.false();
    (await inbox.silent('v1/gateway/attributes', 100)).should.be.true();

    // Any uplink for A registers it again (auto-connect keeps the profile); B stays offline.
    await publish(c2, 'v1/gateway/telemetry', { A: [{ t: 1 }] });
    emu.device('A')!.should.containEql({ connected: true, profile: 'pump' });
    emu.device('B')!.connected.should.be.false();

    const answer = emu.callRpc('A', 'ping', { n: 1 }, 3000);
    const req = await inbox.next('v1/gateway/rpc');
    const data = (req.json as { data: { id: number } }).data;
    await publish(c2, 'v1/gateway/rpc', { device: 'A', id: data.id, data: { pong: true } });
    should(await answer).eql({ pong: true });
  });

  it('journals the re-announcement after a reconnect before anything else of that session', async () => {
    await publish(c!, 'v1/gateway/connect', { device: 'A' });
    const wasClosed = closed(c!);
    emu.dropGateway();
    await wasClosed;
    c2 = await gateway(emu.url);
    await publish(c2, 'v1/gateway/connect', { device: 'A' });
    await publish(c2, 'v1/gateway/telemetry', { A: [{ t: 1 }] });
    const j = emu.journal();
    const start = j.map((e) => e.kind).lastIndexOf('gatewayConnected');
    j.slice(start + 1).map((e) => [e.kind, (e.detail as { auto?: boolean }).auto === true]).should.eql([
      ['connect', false],
      ['telemetry', false],
    ]);
  });

  it('fails a pending RPC when the gateway connection drops, and times out an unanswered one', async () => {
    await subscribe(c!, 'v1/gateway/rpc');
    await publish(c!, 'v1/gateway/connect', { device: 'A' });
    await emu.callRpc('A', 'slow', null, 150).should.be.rejectedWith(/timed out/);
    const pending = emu.callRpc('A', 'never', null, 5000);
    emu.dropGateway();
    await pending.should.be.rejectedWith(/disconnected/);
  });
});
