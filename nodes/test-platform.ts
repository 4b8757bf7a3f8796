// A Node-RED plugin (package.json "node-red".plugins, loaded since Node-RED 1.3): the test
// platform's admin API in the runtime; test-platform.html brings its editor section
// (resources/test-platform.js) into the "IoT gateway" sidebar tab.
import type { NodeAPI } from "node-red";
import { registerTestPlatform } from "./common/test-platform-routes";

export = function (RED: NodeAPI): void {
  const plugins = (RED as unknown as { plugins?: { registerPlugin?: (id: string, def: object) => void } }).plugins;
  plugins?.registerPlugin?.("iot-gateway-test-platform", {});
  registerTestPlatform(RED);
};
