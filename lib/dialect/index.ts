import { createThingsBoardDialect } from "./thingsboard";
import { createThingsPanelDialect } from "./thingspanel";
import { createWatsonDialect } from "./watson";
import type { Dialect, DialectFactory, GatewayIdentity } from "./types";

/** The platforms a gateway-config can speak to, by the name stored in its config. */
export const dialects: Readonly<Record<string, DialectFactory>> = { thingsboard: createThingsBoardDialect, thingspanel: createThingsPanelDialect, watson: createWatsonDialect };

/** The dialect of one gateway session on `platform`. */
export function dialectFor(platform: string, identity: GatewayIdentity = {}): Dialect {
  const make = dialects[platform];
  if (!make) throw new Error(`unknown platform "${platform}": expected one of ${Object.keys(dialects).join(", ")}`);
  return make(identity);
}

export type { Dialect, DialectFactory, GatewayIdentity } from "./types";
