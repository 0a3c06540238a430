// Helpers of the security tests (test/security*.test.ts).
import { env, runInDurableObject } from "cloudflare:test";
import { expect } from "vitest";
import type { Order } from "../../src/contracts";
import { inventoryStub } from "../../src/objects/stubs";
import { call, newCart, stockedSku, unique } from "../helpers";

export type CartHandle = Awaited<ReturnType<typeof newCart>>;

export async function put(cart: CartHandle, sku: string, quantity: number): Promise<Response> {
  return call("PUT", `/v1/carts/${cart.id}/items/${sku}`, { body: { quantity }, headers: cart.headers });
}

/** A cart holding 2 of a fresh SKU (stock 10), checked out: its pending order. */
export async function orderedCart() {
  const sku = await stockedSku("SEC", 10, { price: { amount: 1500, currency: "USD" } });
  const productId = `product-${sku}`;
  const cart = await newCart();
  expect((await put(cart, sku, 2)).status).toBe(200);
  const response = await call("POST", `/v1/carts/${cart.id}/checkout`, {
    body: { email: "sec@example.com" },
    headers: { ...cart.headers, "idempotency-key": unique("k") },
  });
  expect(response.status).toBe(201);
  return { sku, productId, cart, order: (await response.json()) as Order };
}

export async function levels(sku: string) {
  const snapshot = await inventoryStub(env, sku).snapshot();
  if (!snapshot.ok) throw new Error(snapshot.reason);
  const { on_hand, reserved, available } = snapshot.snapshot;
  return { on_hand, reserved, available };
}

/** Every row of every user table in an object's SQLite database, as one string. */
export async function dumpStorage(stub: DurableObjectStub): Promise<string> {
  return runInDurableObject(stub, (_instance, state) => {
    const tables = state.storage.sql
      .exec<{ name: string }>(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite_%'",
      )
      .toArray()
      .map((t) => t.name);
    return JSON.stringify(
      tables.map((t) => ({ table: t, rows: state.storage.sql.exec(`SELECT * FROM "${t}"`).toArray() })),
      (_k, v: unknown) => (v instanceof ArrayBuffer ? new TextDecoder().decode(v) : v),
    );
  });
}

/** A problem body without its per-request member, for comparing two answers. */
export async function problemShape(response: Response) {
  const body = (await response.json()) as Record<string, unknown>;
  delete body.request_id;
  const headers = [...response.headers.keys()].filter((h) => h !== "x-request-id").sort();
  return { status: response.status, headers, body };
}
