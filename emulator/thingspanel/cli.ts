// `npm run emulator -- --platform thingspanel`: a ThingsPanel emulator for trying the nodes by hand.
// Flags: --port (1883), --device-number (GW-0001), --token (GATEWAY_TOKEN), --sub-devices
// (comma-separated address paths, default "sensor_001,line-2/sensor_101"), --host. Prints one line
// per event; Ctrl-C stops it.
import { ThingsPanelEmulator } from './index';

/** The sub-devices the demo and the examples use. */
export const DEMO_SUB_DEVICES = ['sensor_001', 'line-2/sensor_101'];

export async function runThingsPanelEmulator(flag: (name: string) => string | undefined): Promise<ThingsPanelEmulator> {
  const deviceNumber = flag('device-number') ?? 'GW-0001';
  const token = flag('token') ?? 'GATEWAY_TOKEN';
  const subs = (flag('sub-devices') ?? DEMO_SUB_DEVICES.join(',')).split(',').map((s) => s.trim()).filter(Boolean);
  const stamp = () => new Date().toISOString().slice(11, 23);
  const emu = await ThingsPanelEmulator.start({
    host: flag('host') ?? '127.0.0.1',
    port: Number(flag('port') ?? 1883),
    gateways: [{ deviceNumber, username: token }],
    subDevices: { [deviceNumber]: subs },
    log: (line) => console.log(`${stamp()} ${line}`),
  });
  console.log(`ThingsPanel emulator on ${emu.url}: gateway device number "${deviceNumber}", access token "${token}", sub-devices ${subs.map((s) => `"${s}"`).join(', ')}. Ctrl-C to stop.`);
  return emu;
}
