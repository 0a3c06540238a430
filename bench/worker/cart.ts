/**
 * BenchCartObject: the production CartObject, whose calls to SKU objects pay the simulated round
 * trip of each SKU (bench/worker/hop.ts). Bound as the CARTS class in bench/wrangler.toml; the
 * production Worker never sees it.
 */
import { CartObject } from "../../src/index";
import { withSimulatedHop } from "./hop";

export class BenchCartObject extends CartObject {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, withSimulatedHop(env));
  }
}
