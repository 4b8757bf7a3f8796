import 'should';
import { ThingsBoardEmulator } from '../../emulator/thingsboard';
import { Client, end, gateway, Inbox, publish, subscribe } from './mqtt-client';

describe('ThingsBoard emulator: SUBSCRIBE allow-list and downlink QoS', () => {
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

  it('grants the exact gateway and device-API filters, capping QoS at 1', async () => {
    const topics = [
      'v1/gateway/attributes',
      'v1/gateway/rpc',
      'v1/gateway/attributes/response',
      'v1/devices/me/rpc/request/+',
      'v1/devices/me/rpc/response/+',
      'v1/devices/me/attributes',
      'v1/devices/me/attributes/response/+',
    ];
    (await subscribe(c!, topics, 2)).should.eql([1, 1, 1, 1, 1, 1, 1]);
    (await subscribe(c!, 'v1/gateway/rpc', 0)).should.eql([0]);
  });

  it('refuses wildcards and unknown filters with SUBACK failure 0x80', async () => {
    (await subscribe(c!, ['v1/gateway/#', 'v1/gateway/+', '#', 'v1/gateway/rpc/x', 'v1/devices/me/rpc/request/#'])).should.eql([128, 128, 128, 128, 128]);
    emu.journal().filter((j) => j.kind === 'refused').length.should.equal(5);
  });

  it('delivers downlinks at the QoS of the subscription', async () => {
    const inbox = new Inbox(c!);
    await publish(c!, 'v1/gateway/connect', { device: 'A' });
    await subscribe(c!, 'v1/gateway/attributes', 0);
    await subscribe(c!, 'v1/gateway/rpc', 2);
    emu.setSharedAttributes('A', { x: 1 }).should.be.true();
    (await inbox.next('v1/gateway/attributes')).qos.should.equal(0);
    void emu.callRpc('A', 'm', {}, 2000).catch(() => undefined);
    (await inbox.next('v1/gateway/rpc')).qos.should.equal(1);
  });

  it('does not deliver on a topic the gateway did not subscribe to', async () => {
    await publish(c!, 'v1/gateway/connect', { device: 'A' });
    emu.setSharedAttributes('A', { x: 1 }).should.be.false();
    emu.sharedAttributes('A').should.eql({ x: 1 });
  });
});
