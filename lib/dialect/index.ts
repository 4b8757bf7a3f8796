import { thingsboard } from "./thingsboard";
import type { Dialect } from "./types";

/** The platforms a gateway-config can speak to, by the name stored in its config. */
export const dialects: Readonly<Record<string, Dialect>> = { thingsboard };

export function dialectFor(platform: string): Dialect {
  const d = dialects[platform];
  if (!d) throw new Error(`unknown platform "${platform}": expected one of ${Object.keys(dialects).join(", ")}`);
  return d;
}

export type { Dialect } from "./types";
