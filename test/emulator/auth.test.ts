import 'should';
import { ThingsBoardEmulator } from '../../emulator/thingsboard';
import { Client, connect, end, gateway } from './mqtt-client';

describe('ThingsBoard emulator: CONNECT authentication', () => {
  let emu: ThingsBoardEmulator;
  let c: Client | undefined;

  before(async () => {
    emu = await ThingsBoardEmulator.start({
      gateways: [
        { name: 'GW token', token: 'GATEWAY_TOKEN' },
        { name: 'GW basic', basic: { clientId: 'gw-basic', username: 'alice', password: 's3cret' } },
      ],
    });
  });
  afterEach(() => end(c).then(() => (c = undefined)));
  after(() => emu.stop());

  it('accepts an access token as username with an empty password, and the gateway is a device flagged "Is gateway"', async () => {
    c = await gateway(emu.url, 'GATEWAY_TOKEN');
    emu.gatewayConnected('GW token').should.be.true();
    emu.gatewayConnections('GW token').should.equal(1);
    emu.device('GW token')!.should.containEql({ name: 'GW token', isGateway: true, connected: true });
    emu.devices().should.be.empty(); // sub-devices only
  });

  it('answers CONNACK 4 for an empty username', async () => {
    const err = await connect(emu.url, {}).then(() => null, (e: Error & { code?: number }) => e);
    err!.code!.should.equal(4);
  });

  it('answers CONNACK 5 for an unknown access token', async () => {
    const err = await connect(emu.url, { username: 'NOT_A_TOKEN' }).then(() => null, (e: Error & { code?: number }) => e);
    err!.code!.should.equal(5);
    emu.journal().some((j) => j.kind === 'refused' && (j.detail as { returnCode?: number }).returnCode === 5).should.be.true();
  });

  it('accepts basic credentials (client id, username, password)', async () => {
    c = await connect(emu.url, { clientId: 'gw-basic', username: 'alice', password: 's3cret' });
    emu.gatewayConnected('GW basic').should.be.true();
  });

  it('answers CONNACK 4 for basic credentials with a wrong password', async () => {
    const err = await connect(emu.url, { clientId: 'gw-basic', username: 'alice', password: 'nope' }).then(() => null, (e: Error & { code?: number }) => e);
    err!.code!.should.equal(4);
  });

  it('answers CONNACK 5 for basic credentials from another client id', async () => {
    const err = await connect(emu.url, { clientId: 'intruder', username: 'alice', password: 's3cret' }).then(() => null, (e: Error & { code?: number }) => e);
    err!.code!.should.equal(5);
  });

  it('accepts an MQTT 5 CONNECT on the same URL (refusal codes for MQTT 5 are in mqtt5.test.ts)', async () => {
    c = await connect(emu.url, { username: 'GATEWAY_TOKEN', protocolVersion: 5 });
    emu.gatewayConnected('GW token').should.be.true();
    emu.gatewayProtocolVersion('GW token')!.should.equal(5);
    emu.closedReasons().should.be.empty();
  });
});
