// The machinery of test/faults.test.ts: fault accounting, one-shot interceptors inside the objects,
// shoppers, and queue deliveries.
//
// How crashes are injected: a one-shot interceptor on the SKU object's methods throws before or
// after the method's effect (the caller never learns the answer), then the objects involved are
// evicted, losing their memory as after a restart. (`ctx.abort()` inside runInDurableObject is no
// use here: the pool reports its broken output gate as an uncaught error that fails the test.)
//
// workers-sdk #11031 (concurrent Durable Object calls that throw inside the test pool): the
// throwing faults are one-shot (one call throws, then the interceptor disarms), so at most one
// injected exception is in flight at a time, and abortAllDurableObjects() runs only between
// steps, when no request is in flight, never under concurrent calls.
import {
  createExecutionContext,
  createMessageBatch,
  env,
  evictDurableObject,
  getQueueResult,
  runDurableObjectAlarm,
  runInDurableObject,
} from "cloudflare:test";
import { expect, vi } from "vitest";
import type { Order } from "../../src/contracts";
import worker from "../../src/index";
import { InventoryObject } from "../../src/objects/inventory";
import { OrderDesk } from "../../src/objects/order-desk";
import { cartStub, inventoryStub } from "../../src/objects/stubs";
import type { newCart } from "../helpers";

// ---- fault accounting ---------------------------------------------------------------------------

export const faults = new Map<string, number>();
export function countFault(label: string): void {
  faults.set(label, (faults.get(label) ?? 0) + 1);
}

// ---- one-shot interceptors inside the objects ---------------------------------------------------

export type InterceptedMethod = "hold" | "extend" | "commit" | "release" | "pricing";
export type Mode = "crash_before" | "crash_after" | "expire_holds";

/** The faults armed for the next calls; the test arms them step by step, the interceptors disarm them. */
export const injection: {
  /** The armed fault: the `countdown`-th call of `method` (any SKU object) fails as `mode` says. */
  armed: { method: InterceptedMethod; countdown: number; mode: Mode; victims: ReadonlySet<string>; grab: boolean } | null;
  /** The armed outbox fault: the next drainOutbox dies before sending (after the paid commit). */
  sendCrashArmed: boolean;
} = { armed: null, sendCrashArmed: false };
/** Carts whose holds a fault expired behind their back (their lines may exceed their holds). */
export const skewed = new Set<string>();

const HOLD_TTL_MS = 900_000;

/** SQL of the SKU object the interceptor runs in (the DO's `ctx` is protected in its type). */
function sqlOf(instance: InventoryObject): SqlStorage {
  return (Reflect.get(instance, "ctx") as DurableObjectState).storage.sql;
}

export function installInterceptors(): void {
  const proto = InventoryObject.prototype as unknown as Record<InterceptedMethod, (...args: unknown[]) => Promise<unknown>>;
  const originals = Object.fromEntries(
    (["hold", "extend", "commit", "release", "pricing", "snapshot"] as const).map((m) => [
      m,
      (proto as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>)[m]!,
    ]),
  );
  for (const method of ["hold", "extend", "commit", "release", "pricing"] as const) {
    vi.spyOn(proto, method).mockImplementation(async function (this: InventoryObject, ...args: unknown[]) {
      const original = originals[method]!;
      const fault = injection.armed;
      if (fault === null || fault.method !== method || --fault.countdown > 0) return original.apply(this, args);
      injection.armed = null;
      switch (fault.mode) {
        case "crash_before":
          countFault(`crash before ${method}`);
          throw new Error(`injected fault: object crashed before ${method}`);
        case "crash_after":
          await original.apply(this, args);
          countFault(`crash after ${method}`);
          throw new Error(`injected fault: object crashed after ${method}, its answer lost`);
        case "expire_holds": {
          // The SKU object's clock passes the cart holds' expiry while a checkout is running
          // (clock skew between objects); optionally another shopper grabs what was freed. The
          // object keeps its state in memory, so the lapse goes through its own release path.
          const now = Date.now();
          for (const owner of fault.victims) {
            const lapsing = sqlOf(this)
              .exec<{ hold_id: string }>(
                "SELECT hold_id FROM holds WHERE owner_id = ? AND expires_at < ?",
                owner,
                now + HOLD_TTL_MS + 60_000,
              )
              .toArray();
            for (const { hold_id } of lapsing) await originals.release!.apply(this, [hold_id]);
            if (lapsing.length > 0) skewed.add(owner);
          }
          const snapshot = (await originals.snapshot!.apply(this, [])) as { ok: boolean; snapshot?: { available: number } };
          const free = snapshot.snapshot?.available ?? 0;
          if (fault.grab && free > 0) await originals.hold!.apply(this, [`competitor:${crypto.randomUUID()}`, "competitor", free, 900, {}]);
          countFault("holds expired during checkout");
          return original.apply(this, args);
        }
      }
    });
  }
  const drain = OrderDesk.prototype.drainOutbox;
  vi.spyOn(OrderDesk.prototype, "drainOutbox").mockImplementation(async function (this: OrderDesk, now: number) {
    if (injection.sendCrashArmed) {
      injection.sendCrashArmed = false;
      countFault("crash between paid commit and outbox send");
      throw new Error("injected fault: worker died before the outbox send");
    }
    return drain.call(this, now);
  });
}

// ---- shoppers -----------------------------------------------------------------------------------

export type CartHandle = Awaited<ReturnType<typeof newCart>>;

export interface Shopper {
  cart: CartHandle;
  wants: Array<{ sku: string; quantity: number }>;
  checkoutKey: string;
  webhookId: string;
  ending: "pay" | "pay_via_alarm" | "cancel" | "abandon";
  order: Order | null;
}

/** Sends a request until it gets a non-5xx answer (a client retrying after a crash), at most 6 times. */
export async function untilAnswered(send: () => Promise<Response>, onFailure: () => Promise<void>): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    const response = await send();
    if (response.status < 500) return response;
    await response.body?.cancel();
    expect(attempt, "a request kept failing after the faults stopped").toBeLessThan(6);
    await onFailure();
  }
}

export async function evictQuietly(stub: DurableObjectStub): Promise<void> {
  // Rejects when the object is not running; nothing to evict then.
  await evictDurableObject(stub).catch(() => undefined);
}

export const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;
export const chance = (p: number) => Math.random() < p;

/**
 * Runs a cart's alarm now. An alarm that throws (an injected fault hit it) is retried, as the
 * runtime retries failed alarms.
 */
export async function runCartAlarm(cartId: string): Promise<void> {
  const stub = cartStub(env, cartId)!;
  const ran = await runDurableObjectAlarm(stub).catch(() => null);
  if (ran === null) await runInDurableObject(stub, (instance) => instance.alarm());
}

export async function holdOf(sku: string, cartId: string): Promise<number> {
  return (await inventoryStub(env, sku).holdOf(`cart:${cartId}:${sku}`)).quantity;
}

/**
 * Delivers `bodies` to the order consumer as one batch and redelivers whatever it asks to retry,
 * as Queues would, until every message is acked. Returns how many deliveries it took.
 */
export async function deliverUntilAcked(bodies: unknown[], attempts: number): Promise<number> {
  let pending = bodies;
  let deliveries = 0;
  while (pending.length > 0) {
    expect(deliveries, "the consumer kept asking for redelivery").toBeLessThan(6);
    const batch = createMessageBatch(
      "edgecart-orders",
      pending.map((body, i) => ({ id: `m-${crypto.randomUUID()}-${i}`, timestamp: new Date(), attempts: attempts + deliveries, body })),
    );
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    const acked = new Set((await getQueueResult(batch, ctx)).explicitAcks);
    pending = pending.filter((_, i) => !acked.has(batch.messages[i]!.id));
    deliveries++;
  }
  return deliveries;
}

/**
 * A delivery that dies after the consumer's Postgres insert committed: every ack fails (as if the
 * invocation was killed right there). Returns whether the batch ended unacknowledged — the
 * handler threw or asked for every message again — so that Queues would redeliver it.
 */
export async function deliverFailingAfterInsert(bodies: unknown[]): Promise<boolean> {
  let acked = 0;
  let retried = 0;
  const messages = bodies.map((body, i) => ({
    id: `m-${crypto.randomUUID()}-${i}`,
    timestamp: new Date(),
    attempts: 1,
    body,
    ack() {
      throw new Error("injected fault: consumer died after its insert, before the ack");
    },
    retry() {
      retried++;
    },
  }));
  const batch = {
    queue: "edgecart-orders",
    messages,
    ackAll() {
      acked++;
    },
    retryAll() {
      retried += messages.length;
    },
  } as unknown as MessageBatch;
  try {
    await worker.queue(batch, env, createExecutionContext());
  } catch {
    return acked === 0;
  }
  return acked === 0 && retried >= messages.length;
}
