// `npm run emulator -- --platform watson`: a Watson IoT emulator for trying the nodes by hand.
// Flags: --port (1883), --org (abc123), --type (gateway-type), --id (gateway-1), --token
// (GATEWAY_TOKEN), --host. Prints one line per event; Ctrl-C stops it.
import { DEFAULT_GATEWAY, DEFAULT_ORG, WatsonEmulator } from './index';

export async function runWatsonEmulator(flag: (name: string) => string | undefined): Promise<WatsonEmulator> {
  const org = flag('org') ?? DEFAULT_ORG;
  const gw = { typeId: flag('type') ?? DEFAULT_GATEWAY.typeId, deviceId: flag('id') ?? DEFAULT_GATEWAY.deviceId, token: flag('token') ?? DEFAULT_GATEWAY.token };
  const stamp = () => new Date().toISOString().slice(11, 23);
  const emu = await WatsonEmulator.start({
    host: flag('host') ?? '127.0.0.1',
    port: Number(flag('port') ?? 1883),
    org,
    gateways: [gw],
    log: (line) => console.log(`${stamp()} ${line}`),
  });
  console.log(`Watson IoT emulator on ${emu.url} (plain MQTT 3.1.1): org "${org}", gateway type "${gw.typeId}", id "${gw.deviceId}", token "${gw.token}" (client id g:${org}:${gw.typeId}:${gw.deviceId}, username use-token-auth). Ctrl-C to stop.`);
  return emu;
}
