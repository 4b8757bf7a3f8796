// The Watson IoT emulator's own rules, met by a raw MQTT client (no engine code): what the
// platform does is what the runtime tests then rely on.
import should from 'should';
import type * as mqtt from 'mqtt';
import { connect, publish, type Client } from './mqtt-client';
import { WatsonEmulator, NOTIFY, type Notification } from '../../emulator/watson';

const CID = 'g:abc123:gateway-type:gateway-1';
const NOTIFY_TOPIC = 'iot-2/type/gateway-type/id/gateway-1/notify';
const auth = (o: mqtt.IClientOptions = {}): mqtt.IClientOptions => ({ clientId: CID, username: 'use-token-auth', password: 'GATEWAY_TOKEN', ...o });

function subscribe(c: Client, topic: string): Promise<number> {
  return new Promise((resolve, reject) => c.subscribe(topic, { qos: 1 }, (err, granted) => (err ? reject(err) : resolve(granted?.[0]?.qos ?? -1))));
}

function notes(c: Client): Notification[] {
  const got: Notification[] = [];
  c.on('message', (t, p) => t === NOTIFY_TOPIC && got.push(JSON.parse(p.toString()) as Notification));
  return got;
}

describe('Watson IoT emulator', () => {
  let emu: WatsonEmulator;
  const clients: Client[] = [];
  beforeEach(async () => {
    emu = await WatsonEmulator.start({ maxDevicesPerGateway: 3 });
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.end(true);
    await emu.stop();
  });
  const open = async (o: mqtt.IClientOptions = {}): Promise<Client> => {
    const c = await connect(emu.url, auth(o));
    clients.push(c);
    return c;
  };

  it('refuses a wrong client id, username or token and MQTT 5 with their CONNACK codes', async () => {
    await connect(emu.url, auth({ clientId: 'd:abc123:gateway-type:gateway-1' })).should.be.rejectedWith({ code: 2 });
    await connect(emu.url, auth({ clientId: 'g:other:gateway-type:gateway-1' })).should.be.rejectedWith({ code: 2 });
    await connect(emu.url, auth({ clientId: 'g:abc123:gateway-type:unknown' })).should.be.rejectedWith({ code: 5 });
    await connect(emu.url, auth({ username: 'GATEWAY_TOKEN' })).should.be.rejectedWith({ code: 4 });
    await connect(emu.url, auth({ password: 'wrong' })).should.be.rejectedWith({ code: 4 });
    await connect(emu.url, auth({ protocolVersion: 5 })).should.be.rejected();
    emu.gatewayConnected().should.be.false();
  });

  it('stores events, auto-registers devices, and notifies before the PUBACK for every topic rule broken', async () => {
    const c = await open();
    const got = notes(c);
    (await subscribe(c, NOTIFY_TOPIC)).should.equal(0x01);
    await publish(c, 'iot-2/type/sensor/id/s1/evt/telemetry/fmt/json', { d: { t: 1 } });
    emu.events('sensor', 's1').map((e) => e.payload).should.eql([{ d: { t: 1 } }]);
    emu.registered('sensor', 's1').should.be.true();
    await publish(c, 'iot-2/type/sensor/id/s1/bad', {});
    got.length.should.equal(1); // arrived before the PUBACK resolved the publish
    got[0].should.match({ Request: 'publish', Topic: 'iot-2/type/sensor/id/s1/bad', RC: NOTIFY.topic.rc, Message: NOTIFY.topic.message, Client: CID });
    await publish(c, 'iot-2/type/bad type/id/s1/evt/e/fmt/json', {});
    await publish(c, 'iot-2/type/sensor/id/' + 'x'.repeat(37) + '/evt/e/fmt/json', {});
    got.slice(1).map((n) => n.Message).should.eql([NOTIFY.type.message, NOTIFY.id.message]);
    await subscribe(c, 'iot-2/type/+/id/+/evt/+/fmt/+').should.be.rejectedWith(/Subscribe error/);
    await emu.waitFor(() => got.length === 4);
    got[3].Request.should.equal('subscribe');
  });

  it('keeps at most the configured number of devices active per connection, reset on reconnect', async () => {
    let c = await open();
    const got = notes(c);
    await subscribe(c, NOTIFY_TOPIC);
    for (const id of ['a', 'b', 'c', 'd']) await publish(c, `iot-2/type/sensor/id/${id}/evt/e/fmt/json`, {});
    got.map((n) => n.Message).should.eql([NOTIFY.gatewayMax.message]);
    emu.events().map((e) => e.id).should.eql(['a', 'b', 'c']);
    c.end(true);
    await emu.waitFor(() => !emu.gatewayConnected());
    c = await open();
    await publish(c, 'iot-2/type/sensor/id/d/evt/e/fmt/json', {});
    emu.events().map((e) => e.id).should.eql(['a', 'b', 'c', 'd']);
  });

  it('notifies a failed registration and then drops that device for a while', async () => {
    const c = await open();
    const got = notes(c);
    await subscribe(c, NOTIFY_TOPIC);
    emu.failRegistration('sensor', 'f');
    await publish(c, 'iot-2/type/sensor/id/f/evt/e/fmt/json', {});
    await publish(c, 'iot-2/type/sensor/id/f/evt/e/fmt/json', {});
    got.map((n) => n.Message).should.eql([NOTIFY.internal.message]);
    emu.events().should.eql([]);
  });

  it('closes the connection on a payload over 131,072 bytes', async () => {
    const c = await open();
    const closed = new Promise<void>((r) => c.once('close', () => r()));
    c.publish('iot-2/type/sensor/id/s1/evt/e/fmt/json', Buffer.alloc(131073, 0x61), { qos: 1 });
    await closed;
    emu.violations()[0].should.match(/131073 bytes/);
    emu.events().should.eql([]);
  });

  it('sends commands to the gateway that subscribed to them', async () => {
    const c = await open();
    (await subscribe(c, 'iot-2/type/+/id/+/cmd/+/fmt/+')).should.equal(1);
    const got = new Promise<[string, string]>((r) => c.once('message', (t, p) => r([t, p.toString()])));
    emu.command('sensor', 's1', 'setRate', { rate: 5 }).should.equal(1);
    should(await got).eql(['iot-2/type/sensor/id/s1/cmd/setRate/fmt/json', '{"rate":5}']);
  });
});
