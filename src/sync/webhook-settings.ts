/** What the outgoing webhooks' modules share: their settings from vars, and new record ids. */
import * as z from "zod";
import { toHex } from "../platform/crypto";

/** The webhook settings from vars. */
export function webhookSettings(env: Env): { allowLoopback: boolean; lowStockThreshold: number } {
  const threshold = z.coerce
    .number()
    .int()
    .min(0)
    .max(1_000_000_000)
    .catch(5)
    .parse(env.LOW_STOCK_THRESHOLD ?? "5");
  return { allowLoopback: env.WEBHOOKS_ALLOW_LOOPBACK === "on", lowStockThreshold: threshold };
}

/** A new random id with `prefix` (`we_`, `whd_`, `wha_`, `evt_`). */
export function newId(prefix: string): string {
  return `${prefix}${toHex(crypto.getRandomValues(new Uint8Array(16)))}`;
}
