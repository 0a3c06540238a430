/**
 * The simulated network hop between a cart and a far SKU's object (`--rtt`). A hot SKU's object
 * lives in one place, and the carts of shoppers far from it pay a round trip on every call they
 * make to it. The cart waits rtt/2 before each call (the request travelling) and rtt/2 after the
 * answer (the answer travelling back); the SKU's object itself is not slowed down, just as it
 * would not be by packets in flight.
 *
 * The wait is on the cart's side on purpose. A timer inside the SKU's object would be a timer
 * callback of that object, and workerd runs an object's callbacks only once its pending writes
 * are confirmed (the output gate): every hold's second half would wait for the last hold's commit,
 * which serialises the object in a way no network does (measured: with any round trip at all, a
 * cap of about 380 holds/s against 1,100/s without).
 *
 * Each SKU's round trip is set on its object (`benchConfigure`, kept in its storage) by the runner
 * before any cart calls it; a cart asks each SKU once per isolate (`benchRtt`, not delayed) and
 * remembers the answer.
 */
import type { BenchInventoryObject } from "./inventory";

/** The calls a cart makes to a SKU's object: each pays the round trip. */
const CART_CALLS = new Set(["hold", "extend", "release", "commit", "holdOf", "pricing"]);

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Round trip per SKU (ms), as its object answered it; per isolate. */
const rttBySku = new Map<string, Promise<number>>();

function rttOf(sku: string, stub: DurableObjectStub<BenchInventoryObject>): Promise<number> {
  let rtt = rttBySku.get(sku);
  if (rtt === undefined) {
    rtt = stub.benchRtt();
    rtt.catch(() => rttBySku.delete(sku));
    rttBySku.set(sku, rtt);
  }
  return rtt;
}

/** A stub of a SKU's object whose cart calls pay the SKU's round trip. */
function farStub(sku: string, stub: DurableObjectStub<BenchInventoryObject>) {
  return new Proxy(stub, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof property !== "string" || !CART_CALLS.has(property)) return value;
      return async (...args: unknown[]) => {
        const rtt = await rttOf(sku, target);
        if (rtt > 0) await sleep(rtt / 2);
        const answer = await (value as (...a: unknown[]) => Promise<unknown>)(...args);
        if (rtt > 0) await sleep(rtt / 2);
        return answer;
      };
    },
  });
}

/** One wrapped env per env the runtime gives, so the production code's per-env memos still hold. */
const wrapped = new WeakMap<Env, Env>();

/** `env` with an INVENTORY namespace whose stubs pay the simulated round trip (a cart's env). */
export function withSimulatedHop(env: Env): Env {
  let far = wrapped.get(env);
  if (far === undefined) {
    far = wrap(env);
    wrapped.set(env, far);
  }
  return far;
}

function wrap(env: Env): Env {
  const inventory = env.INVENTORY as unknown as DurableObjectNamespace<BenchInventoryObject>;
  const namespace = new Proxy(inventory, {
    get(target, property) {
      if (property === "getByName") return (name: string) => farStub(name, target.getByName(name));
      const value = Reflect.get(target, property);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { ...env, INVENTORY: namespace as unknown as Env["INVENTORY"] };
}
