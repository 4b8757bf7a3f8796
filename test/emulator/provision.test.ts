import 'should';
import { ThingsBoardEmulator } from '../../emulator/thingsboard';
import { Client, closed, connect, end, Inbox, publish, subscribe } from './mqtt-client';

/** One provisioning exchange the way a device does it: connect as "provision", request, read the answer. */
async function provision(url: string, request: unknown): Promise<{ answer: Record<string, unknown>; c: Client }> {
  const c = await connect(url, { username: 'provision' });
  const inbox = new Inbox(c);
  (await subscribe(c, '/provision/response')).should.eql([1]);
  await publish(c, '/provision/request', request);
  const answer = (await inbox.next('/provision/response')).json as Record<string, unknown>;
  return { answer, c };
}

describe('ThingsBoard emulator: device provisioning', () => {
  let emu: ThingsBoardEmulator;
  const clients: Client[] = [];

  beforeEach(async () => {
    emu = await ThingsBoardEmulator.start();
    emu.allowProvisioning({ key: 'KEY', secret: 'SECRET', profile: 'gateways' });
  });
  afterEach(async () => {
    await end(...clients.splice(0));
    await emu.stop();
  });

  it('creates the device flagged "Is gateway" with a generated access token, which then connects as a gateway', async () => {
    const { answer, c } = await provision(emu.url, { provisionDeviceKey: 'KEY', provisionDeviceSecret: 'SECRET', deviceName: 'Edge 1', gateway: true });
    clients.push(c);
    answer.status!.should.equal('SUCCESS');
    answer.credentialsType!.should.equal('ACCESS_TOKEN');
    answer.credentialsValue!.should.be.a.String().and.not.be.empty();
    emu.device('Edge 1')!.should.containEql({ isGateway: true, profile: 'gateways' });
    const gw = await connect(emu.url, { username: answer.credentialsValue as string });
    clients.push(gw);
    emu.gatewayConnected('Edge 1').should.be.true();
  });

  it('saves MQTT basic credentials the request brings and answers them as credentialsValue {clientId, userName, password}', async () => {
    const { answer, c } = await provision(emu.url, {
      provisionDeviceKey: 'KEY', provisionDeviceSecret: 'SECRET', deviceName: 'Edge 2', gateway: true,
      credentialsType: 'MQTT_BASIC', clientId: 'edge-2', username: 'edge2', password: 'pw2',
    });
    clients.push(c);
    answer.should.eql({ status: 'SUCCESS', credentialsType: 'MQTT_BASIC', credentialsValue: { clientId: 'edge-2', userName: 'edge2', password: 'pw2' } });
    const gw = await connect(emu.url, { clientId: 'edge-2', username: 'edge2', password: 'pw2' });
    clients.push(gw);
    emu.gatewayConnected('Edge 2').should.be.true();
  });

  it('provisions a device asked without "gateway": true as a plain device, which cannot open a gateway session here', async () => {
    const { answer, c } = await provision(emu.url, { provisionDeviceKey: 'KEY', provisionDeviceSecret: 'SECRET', deviceName: 'Plain 1' });
    clients.push(c);
    answer.status!.should.equal('SUCCESS');
    emu.device('Plain 1')!.isGateway.should.be.false();
    const err = await connect(emu.url, { username: answer.credentialsValue as string }).then(() => null, (e: Error & { code?: number }) => e);
    err!.code!.should.equal(5);
  });

  it('answers NOT_FOUND with the server\'s message for an unknown key or a wrong secret', async () => {
    for (const req of [{ provisionDeviceKey: 'NOPE', provisionDeviceSecret: 'SECRET' }, { provisionDeviceKey: 'KEY', provisionDeviceSecret: 'WRONG' }]) {
      const { answer, c } = await provision(emu.url, { ...req, deviceName: 'Edge 3' });
      clients.push(c);
      answer.should.eql({ status: 'NOT_FOUND', errorMsg: 'Provision data was not found!' });
    }
    (emu.device('Edge 3') === undefined).should.be.true();
  });

  it('answers FAILURE to a second provisioning of the same name: a device is never provisioned twice', async () => {
    const req = { provisionDeviceKey: 'KEY', provisionDeviceSecret: 'SECRET', deviceName: 'Edge 4', gateway: true };
    const first = await provision(emu.url, req);
    clients.push(first.c);
    first.answer.status!.should.equal('SUCCESS');
    const second = await provision(emu.url, req);
    clients.push(second.c);
    second.answer.should.eql({ status: 'FAILURE', errorMsg: 'Failed to provision device!' });
    emu.provisionAttempts().map((a) => a.response.status).should.eql(['SUCCESS', 'FAILURE']);
  });

  it('pre-provisioned strategy: SUCCESS once for a device that exists, FAILURE for one that does not and for the second time', async () => {
    emu.allowProvisioning({ key: 'PRE', secret: 'S', strategy: 'pre-provisioned' });
    emu.preProvision('Edge 5');
    const ok = await provision(emu.url, { provisionDeviceKey: 'PRE', provisionDeviceSecret: 'S', deviceName: 'Edge 5' });
    const again = await provision(emu.url, { provisionDeviceKey: 'PRE', provisionDeviceSecret: 'S', deviceName: 'Edge 5' });
    const missing = await provision(emu.url, { provisionDeviceKey: 'PRE', provisionDeviceSecret: 'S', deviceName: 'Edge 6' });
    clients.push(ok.c, again.c, missing.c);
    ok.answer.status!.should.equal('SUCCESS');
    again.answer.status!.should.equal('FAILURE');
    missing.answer.status!.should.equal('FAILURE');
  });

  it('closes a provisioning connection that publishes anything but /provision/request, and refuses gateway subscriptions on it', async () => {
    const c = await connect(emu.url, { username: 'provision' });
    clients.push(c);
    (await subscribe(c, 'v1/gateway/rpc')).should.eql([128]);
    const gone = closed(c);
    c.publish('v1/gateway/telemetry', '{}', { qos: 1 });
    await gone;
  });
});
