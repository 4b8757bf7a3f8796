import should from 'should';
import { ThingsBoardEmulator } from '../../emulator/thingsboard';
import { Client, end, gateway, Inbox, publish, subscribe } from './mqtt-client';

describe('ThingsBoard emulator: downlinks and requests', () => {
  let emu: ThingsBoardEmulator;
  let c: Client | undefined;
  let inbox: Inbox;

  beforeEach(async () => {
    emu = await ThingsBoardEmulator.start({ sessionLimits: { rateLimits: { messages: '10:1,300:60' } } });
    c = await gateway(emu.url);
    inbox = new Inbox(c);
    await subscribe(c, ['v1/gateway/attributes', 'v1/gateway/rpc', 'v1/gateway/attributes/response', 'v1/devices/me/rpc/request/+', 'v1/devices/me/rpc/response/+']);
    await publish(c, 'v1/gateway/connect', { device: 'A' });
    await publish(c, 'v1/gateway/attributes', { A: { fw: '1.0', model: 'X' } });
    emu.setSharedAttributes('A', { interval: 5 });
    await inbox.next('v1/gateway/attributes');
  });
  afterEach(async () => {
    await end(c);
    await emu.stop();
  });

  async function ask(req: Record<string, unknown>): Promise<unknown> {
    await publish(c!, 'v1/gateway/attributes/request', req);
    return (await inbox.next('v1/gateway/attributes/response')).json;
  }

  describe('attribute requests', () => {
    it('answers {id, device, value} when one key is found', async () => {
      should(await ask({ id: 1, device: 'A', client: true, key: 'fw' })).eql({ id: 1, device: 'A', value: '1.0' });
      should(await ask({ id: 2, device: 'A', client: false, key: 'interval' })).eql({ id: 2, device: 'A', value: 5 });
    });

    it('answers {id, device, values} when several keys are found', async () => {
      should(await ask({ id: 3, device: 'A', client: true, keys: ['fw', 'model'] })).eql({ id: 3, device: 'A', values: { fw: '1.0', model: 'X' } });
    });

    it('answers all client and shared attributes for keys []', async () => {
      should(await ask({ id: 4, device: 'A', client: true, keys: [] })).eql({ id: 4, device: 'A', values: { fw: '1.0', model: 'X' }, value: 5 });
    });

    it('answers with neither value nor values when nothing is found', async () => {
      should(await ask({ id: 5, device: 'A', client: false, key: 'fw' })).eql({ id: 5, device: 'A' });
    });

    it('sends no response at all when the lookup fails', async () => {
      emu.failAttributeLookups('A');
      await publish(c!, 'v1/gateway/attributes/request', { id: 6, device: 'A', client: true, key: 'fw' });
      (await inbox.silent('v1/gateway/attributes/response', 200)).should.be.true();
      emu.journal().some((j) => j.kind === 'attributeRequest' && (j.detail as { id: number }).id === 6).should.be.true();
    });
  });

  it('pushes shared attribute updates as {device, data} and deletions as data.deleted', async () => {
    emu.setSharedAttributes('A', { interval: 10, mode: 'eco' }).should.be.true();
    should((await inbox.next('v1/gateway/attributes')).json).eql({ device: 'A', data: { interval: 10, mode: 'eco' } });
    emu.deleteSharedAttributes('A', ['mode']).should.be.true();
    should((await inbox.next('v1/gateway/attributes')).json).eql({ device: 'A', data: { deleted: ['mode'] } });
    emu.sharedAttributes('A').should.eql({ interval: 10 });
  });

  it('round-trips a two-way RPC: {device, data:{id, method, params}} out, {device, id, data} back', async () => {
    const answer = emu.callRpc('A', 'setValve', { open: true });
    const req = await inbox.next('v1/gateway/rpc');
    const body = req.json as { device: string; data: { id: number; method: string; params: unknown } };
    body.device.should.equal('A');
    body.data.method.should.equal('setValve');
    should(body.data.params).eql({ open: true });
    body.data.id.should.be.a.Number();
    await publish(c!, 'v1/gateway/rpc', { device: 'A', id: body.data.id, data: { ok: 1 } });
    should(await answer).eql({ ok: 1 });
    emu.journal().filter((j) => j.kind === 'rpcReply').map((j) => j.detail).should.eql([{ id: body.data.id, data: { ok: 1 }, matched: true }]);
  });

  it('sends gateway_device_renamed to the gateway device itself and resolves with its answer', async () => {
    const done = emu.renameDevice('A', 'A2');
    const req = await inbox.next('v1/devices/me/rpc/request/' + '1');
    should(req.json).eql({ method: 'gateway_device_renamed', params: { A: 'A2' } });
    await publish(c!, 'v1/devices/me/rpc/response/1', { success: true });
    should(await done).eql({ success: true });
    (emu.device('A') === undefined).should.be.true();
    emu.device('A2')!.connected.should.be.true();
    emu.clientAttributes('A2').should.eql({ fw: '1.0', model: 'X' });
  });

  it('sends gateway_device_deleted with the name as params and resolves with the answer', async () => {
    const done = emu.deleteDevice('A');
    const req = await inbox.next(await emu.waitFor(() => inbox.all.find((m) => m.topic.startsWith('v1/devices/me/rpc/request/'))?.topic));
    should(req.json).eql({ method: 'gateway_device_deleted', params: 'A' });
    const id = req.topic.split('/').pop();
    await publish(c!, `v1/devices/me/rpc/response/${id}`, { success: true });
    should(await done).eql({ success: true });
    (emu.device('A') === undefined).should.be.true();
  });

  it('answers getSessionLimits on v1/devices/me/rpc/response/{id}', async () => {
    emu.setMaxPayload(4096);
    await publish(c!, 'v1/devices/me/rpc/request/42', { method: 'getSessionLimits' });
    const res = await inbox.next('v1/devices/me/rpc/response/42');
    const limits = res.json as Record<string, unknown>;
    limits.should.have.keys('rateLimits', 'gatewayRateLimits', 'maxPayloadSize', 'maxInflightMessages');
    limits.maxPayloadSize!.should.equal(4096);
    (limits.rateLimits as Record<string, string>).messages.should.equal('10:1,300:60');
    Object.values(limits.gatewayRateLimits as Record<string, string>).forEach((v) => v.should.match(/^\d+:\d+(,\d+:\d+)*$/));
    emu.journal().some((j) => j.kind === 'gatewayRpc' && (j.detail as { method: string }).method === 'getSessionLimits').should.be.true();
  });

  it('sendRaw publishes anything to the gateway, subscribed or not', async () => {
    emu.sendRaw('v1/gateway/rpc', '{not json').should.be.true();
    should((await inbox.next('v1/gateway/rpc')).json).equal('{not json');
  });

  it('refuses notifyDeviceDisconnected on an MQTT 3.1.1 session (the notice is MQTT 5 only)', () => {
    (() => emu.notifyDeviceDisconnected('A', 150)).should.throw(/MQTT 5/);
  });
});
