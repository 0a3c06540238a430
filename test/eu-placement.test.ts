// EU data stays in the EU: an EU cart's object and its Idempotency-Key records (a stored answer
// holds its token, or the shopper's email) are asked for in the EU jurisdiction. Local workerd has
// no jurisdictions and refuses them, so each placement falls back there, logged; the test shows
// which jurisdiction every record was asked for, through the route table's own record store.
import { createExecutionContext, env } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Order } from "../src/contracts";
import { runRoute } from "../src/http/dispatch";
import type { IdempotencyRecords } from "../src/http/idempotency";
import { routes, services } from "../src/router";
import { BASE, call, clientIpHeader, newCart, stockedSku, unique } from "./helpers";

afterEach(() => {
  vi.restoreAllMocks();
});

/** Calls a route through dispatch with a record store that notes the region of every record it is asked for. */
async function through(
  operationId: string,
  path: string,
  params: Record<string, string>,
  init: { body?: unknown; headers: Record<string, string> },
) {
  const asked: Array<"eu" | null> = [];
  const records: IdempotencyRecords = (e, scope, key, region) => {
    asked.push(region);
    return services.idempotencyRecords(e, scope, key, region);
  };
  const route = routes.find((r) => r.operationId === operationId)!;
  const request = new Request(`${BASE}${path}`, {
    method: route.method,
    headers: { "content-type": "application/json", ...init.headers },
    body: JSON.stringify(init.body),
  });
  const response = await runRoute(route, request, params, env, createExecutionContext(), crypto.randomUUID(), {
    ...services,
    idempotencyRecords: records,
  });
  return { response, asked };
}

describe("EU placement", () => {
  it("asks for an EU cart's Idempotency-Key records, and its object, in the EU jurisdiction", async () => {
    const jurisdiction = vi.spyOn(env.IDEMPOTENCY, "jurisdiction");
    const created = await through(
      "createCart",
      "/v1/carts",
      {},
      { body: { currency: "EUR", region: "eu" }, headers: { ...clientIpHeader(), "idempotency-key": unique("k") } },
    );
    expect(created.response.status).toBe(201);
    expect(created.asked).toEqual(["eu"]);
    expect(jurisdiction).toHaveBeenCalledWith("eu");
    const cart = (await created.response.json()) as { id: string; token: string; region: string };
    expect(cart.region).toBe("eu");

    const sku = await stockedSku("EU", 5, { price: { amount: 900, currency: "EUR" } });
    const headers = { authorization: `Bearer ${cart.token}`, ...clientIpHeader() };
    expect((await call("PUT", `/v1/carts/${cart.id}/items/${sku}`, { body: { quantity: 1 }, headers })).status).toBe(200);
    const checkout = await through(
      "checkout",
      `/v1/carts/${cart.id}/checkout`,
      { cart_id: cart.id },
      { body: { email: "eu@example.com" }, headers: { ...headers, "idempotency-key": unique("k") } },
    );
    expect(checkout.response.status).toBe(201);
    expect(checkout.asked).toEqual(["eu"]);
    const order = (await checkout.response.json()) as Order;
    const cancel = await through(
      "cancelOrder",
      `/v1/orders/${order.id}/cancel`,
      { order_id: order.id },
      { headers: { ...headers, "idempotency-key": unique("k") } },
    );
    expect(cancel.response.status).toBe(200);
    expect(cancel.asked).toEqual(["eu"]);
  });

  it("keeps other carts' and the back office's records where they are", async () => {
    const created = await through(
      "createCart",
      "/v1/carts",
      {},
      { body: { currency: "USD" }, headers: { ...clientIpHeader(), "idempotency-key": unique("k") } },
    );
    expect(created.asked).toEqual([null]);
    const cart = await newCart();
    const checkout = await through(
      "checkout",
      `/v1/carts/${cart.id}/checkout`,
      { cart_id: cart.id },
      { body: { email: "us@example.com" }, headers: { ...cart.headers, "idempotency-key": unique("k") } },
    );
    expect(checkout.response.status).toBe(409);
    expect(checkout.asked).toEqual([null]);
  });
});
