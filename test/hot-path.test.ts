// The hot path's design, asserted structurally (speed itself is measured by `npm run bench`,
// never here): opening a cart touches no object, a line change is one call to one SKU object,
// tokens carry claims nobody can edit, reads of unknown SKUs store nothing, old carts still work.
import { env, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { holdIdFor } from "../src/domain/cart";
import { InventoryObject } from "../src/objects/inventory";
import { cartStub, inventoryStub } from "../src/objects/stubs";
import { sha256Hex } from "../src/platform/crypto";
import { call, clientIpHeader, expectProblem, newCart, stockedSku, unique } from "./helpers";

type CartJson = { id: string; status: string; version: number; expires_at: string; items: Array<{ sku: string; quantity: number }> };

const put = (cart: { id: string; headers: Record<string, string> }, sku: string, quantity: number) =>
  call("PUT", `/v1/carts/${cart.id}/items/${sku}`, { body: { quantity }, headers: cart.headers });

const tablesOf = (stub: DurableObjectStub) =>
  runInDurableObject(stub, (_i, state) =>
    state.storage.sql
      .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'")
      .toArray()
      .map((t) => t.name),
  );

afterEach(() => {
  vi.restoreAllMocks();
});

describe("opening a cart", () => {
  it("answers the empty cart from its token alone, and shows it expired once its time is up", async () => {
    const cart = await newCart({ currency: "EUR" });
    const fetched = (await (await call("GET", `/v1/carts/${cart.id}`, { headers: cart.headers })).json()) as CartJson & {
      currency: string;
    };
    expect(fetched).toMatchObject({ id: cart.id, status: "open", currency: "EUR", version: 1, items: [] });
    expect(await tablesOf(cartStub(env, cart.id)!)).toEqual([]);
    // A checkout of a cart that was never changed needs nothing stored either.
    const checkout = await call("POST", `/v1/carts/${cart.id}/checkout`, {
      body: { email: "a@b.example" },
      headers: { ...cart.headers, "idempotency-key": unique("k") },
    });
    await expectProblem(checkout, 409, "cart_empty");
  });

  it("refuses a token whose claims were edited, or that belongs to another cart, without touching an object", async () => {
    const mine = await newCart();
    const other = await newCart();
    const edited = mine.token.replace(".USD.", ".EUR.");
    await expectProblem(await call("GET", `/v1/carts/${mine.id}`, { headers: { authorization: `Bearer ${edited}` } }), 404, "not_found");
    await expectProblem(
      await call("GET", `/v1/carts/${mine.id}`, { headers: { authorization: `Bearer ${other.token}` } }),
      404,
      "not_found",
    );
    const forged = `${mine.token.slice(0, -43)}${"A".repeat(43)}`;
    await expectProblem(await put({ id: mine.id, headers: { authorization: `Bearer ${forged}` } }, "ANY", 1), 404, "not_found");
    expect(await tablesOf(cartStub(env, mine.id)!)).toEqual([]);
  });
});

describe("a line change", () => {
  it("makes one call to one SKU object, whatever else the cart holds, and arms the alarm only when a hold must be renewed", async () => {
    const skus = [await stockedSku("HOT-A", 10), await stockedSku("HOT-B", 10), await stockedSku("HOT-C", 10)];
    const cart = await newCart();
    const calls: string[] = [];
    for (const method of ["hold", "extend", "release", "holdOf", "pricing", "commit"] as const) {
      const original = InventoryObject.prototype[method] as (...args: unknown[]) => Promise<unknown>;
      vi.spyOn(InventoryObject.prototype, method).mockImplementation(function (this: InventoryObject, ...args: unknown[]) {
        calls.push(method);
        return original.apply(this, args);
      } as never);
    }
    const alarm = () => runInDurableObject(cartStub(env, cart.id)!, (_i, state) => state.storage.getAlarm());

    expect((await put(cart, skus[0]!, 1)).status).toBe(200);
    expect(calls).toEqual(["hold"]);
    expect(await alarm()).toBeNull();
    // One line: its hold always lapses with the cart, so there is nothing to renew.
    expect((await put(cart, skus[0]!, 2)).status).toBe(200);
    expect(calls).toEqual(["hold", "hold"]);
    expect(await alarm()).toBeNull();

    calls.length = 0;
    expect((await put(cart, skus[1]!, 2)).status).toBe(200);
    expect(calls).toEqual(["hold"]);
    const armed = await alarm();
    expect(armed).not.toBeNull();

    calls.length = 0;
    expect((await put(cart, skus[2]!, 3)).status).toBe(200);
    expect((await put(cart, skus[0]!, 4)).status).toBe(200);
    expect(calls).toEqual(["hold", "hold"]);
    // Only ever moved earlier: later changes do not write it again.
    expect(await alarm()).toBe(armed);
    // A restarted cart reads its armed alarm back (only a cart that never wrote skips that read).
    await evictDurableObject(cartStub(env, cart.id)!);
    expect((await put(cart, skus[1]!, 1)).status).toBe(200);
    expect(calls).toEqual(["hold", "hold", "hold"]);
    expect(await alarm()).toBe(armed);
  });

  it("makes the runtime's alarm table with the cart's own tables, so the first alarm changes no schema", async () => {
    const skus = [await stockedSku("META-A", 10), await stockedSku("META-B", 10)];
    const cart = await newCart();
    const stub = cartStub(env, cart.id)!;
    const schema = () =>
      runInDurableObject(stub, async (_i, state) => ({
        tables: state.storage.sql
          .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
          .toArray()
          .map((t) => t.name),
        alarm: await state.storage.getAlarm(),
      }));

    expect((await put(cart, skus[0]!, 1)).status).toBe(200);
    const first = await schema();
    // The first write made the table and left no alarm: one line has nothing to renew.
    expect(first.tables).toContain("_cf_METADATA");
    expect(first.alarm).toBeNull();
    expect((await put(cart, skus[1]!, 1)).status).toBe(200);
    const second = await schema();
    // The second line arms the alarm (the first line's hold must be renewed) without a table made.
    expect(second.alarm).not.toBeNull();
    expect(second.tables).toEqual(first.tables);
  });

  it("on a warm cart writes the cart row and the line and reads nothing back (the writes return what they wrote)", async () => {
    const skus = [await stockedSku("READ-A", 10), await stockedSku("READ-B", 10)];
    const cart = await newCart();
    expect((await put(cart, skus[0]!, 1)).status).toBe(200);
    // Every statement the cart object runs from here, in order (the real exec, wrapped).
    const statements: string[] = [];
    await runInDurableObject(cartStub(env, cart.id)!, (_i, state) => {
      const sql = state.storage.sql as unknown as { exec: (query: string, ...bindings: unknown[]) => unknown };
      const exec = sql.exec.bind(sql);
      sql.exec = (query, ...bindings) => {
        statements.push(query.trim().split(/\s+/).slice(0, 4).join(" "));
        return exec(query, ...bindings);
      };
    });
    const second = await put(cart, skus[1]!, 2);
    expect(second.status).toBe(200);
    expect(((await second.json()) as CartJson).items.map((line) => [line.sku, line.quantity])).toEqual([
      [skus[0], 1],
      [skus[1], 2],
    ]);
    // Promotions and merges were read before and this change wrote neither: they stay remembered.
    // The cart row and the lines are what the two statements returned.
    expect(statements).toEqual(["INSERT INTO cart (id,", "INSERT INTO lines (sku,"]);
  });

  it("answers each change exactly as a fresh read of the object shows it afterwards", async () => {
    const skus = [await stockedSku("WT-A", 10), await stockedSku("WT-B", 10), await stockedSku("WT-C", 10)];
    const cart = await newCart();
    const stub = cartStub(env, cart.id)!;
    const steps: Array<() => Promise<Response>> = [
      () => put(cart, skus[1]!, 1),
      () => put(cart, skus[0]!, 2),
      () => put(cart, skus[1]!, 3), // an update keeps its place
      () => put(cart, skus[2]!, 1),
      () => call("DELETE", `/v1/carts/${cart.id}/items/${skus[1]}`, { headers: cart.headers }),
      () => put(cart, skus[1]!, 1), // back, now last
      () => call("PUT", `/v1/carts/${cart.id}/ship-to`, { body: { country: "DE" }, headers: cart.headers }),
      () => put(cart, skus[0]!, 1),
    ];
    for (const step of steps) {
      const answer = await step();
      expect(answer.status).toBe(200);
      const shown = (await answer.json()) as CartJson;
      await evictDurableObject(stub);
      const fresh = (await (await call("GET", `/v1/carts/${cart.id}`, { headers: cart.headers })).json()) as CartJson;
      expect(shown).toEqual(fresh);
    }
    expect((await call("GET", `/v1/carts/${cart.id}`, { headers: cart.headers }).then((r) => r.json())) as CartJson).toMatchObject({
      items: [
        { sku: skus[0], quantity: 1 },
        { sku: skus[2], quantity: 1 },
        { sku: skus[1], quantity: 1 },
      ],
    });
  });

  it("keeps a SKU object's state exact across restarts (memory is a copy of SQLite)", async () => {
    const sku = await stockedSku("MEM", 10);
    const cart = await newCart();
    expect((await put(cart, sku, 3)).status).toBe(200);
    await evictDurableObject(inventoryStub(env, sku));
    expect((await inventoryStub(env, sku).holdOf(holdIdFor(cart.id, sku))).quantity).toBe(3);
    expect((await put(cart, sku, 5)).status).toBe(200);
    const verified = await inventoryStub(env, sku).verify();
    expect(verified).toMatchObject({ ok: true, on_hand: 10, reserved: 5 });
  });
});

describe("unknown SKUs", () => {
  it("answer 404 on the public availability route and store nothing", async () => {
    const sku = unique("NOPE");
    await expectProblem(await call("GET", `/v1/skus/${sku}/availability`), 404, "not_found");
    const cart = await newCart();
    await expectProblem(await put(cart, sku, 1), 404, "not_found");
    expect(await tablesOf(inventoryStub(env, sku))).toEqual([]);
  });
});

describe("carts opened before tokens carried claims", () => {
  it("still answer their old token, accept changes (their schema is upgraded in place) and refuse any other", async () => {
    const sku = await stockedSku("OLD", 10);
    const id = env.CARTS.newUniqueId().toString();
    const token = "old-style-token-0123456789abcdefghijklmnopqrstu";
    const now = Date.now();
    // The storage an earlier release left: one global migration list, the token's hash, pending marks.
    await runInDurableObject(cartStub(env, id)!, (_i, state) => {
      const sql = state.storage.sql;
      sql.exec("CREATE TABLE _migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at INTEGER NOT NULL)");
      sql.exec(`CREATE TABLE cart (id INTEGER PRIMARY KEY CHECK (id = 1), cart_id TEXT NOT NULL, token_hash TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('open', 'checked_out', 'expired')), currency TEXT NOT NULL, region TEXT,
        version INTEGER NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, order_id TEXT)`);
      sql.exec(`CREATE TABLE lines (sku TEXT PRIMARY KEY, product_id TEXT NOT NULL, title TEXT NOT NULL, quantity INTEGER NOT NULL CHECK (quantity > 0),
        unit_amount INTEGER NOT NULL CHECK (unit_amount >= 0), added_at INTEGER NOT NULL)`);
      sql.exec("CREATE TABLE pending_lines (sku TEXT PRIMARY KEY, started_at INTEGER NOT NULL)");
      sql.exec("ALTER TABLE cart ADD COLUMN checkout_key TEXT");
      sql.exec(`CREATE TABLE orders (id INTEGER PRIMARY KEY CHECK (id = 1), order_id TEXT NOT NULL, cart_id TEXT NOT NULL, status TEXT NOT NULL,
        email TEXT NOT NULL, currency TEXT NOT NULL, total_amount INTEGER NOT NULL, checkout_key TEXT NOT NULL, created_at INTEGER NOT NULL,
        payment_expires_at INTEGER NOT NULL, paid_at INTEGER, payment_id TEXT, holds_released INTEGER NOT NULL DEFAULT 0)`);
      sql.exec(
        "CREATE TABLE order_lines (sku TEXT PRIMARY KEY, product_id TEXT NOT NULL, title TEXT NOT NULL, quantity INTEGER NOT NULL, unit_amount INTEGER NOT NULL)",
      );
      sql.exec(`CREATE TABLE payment_events (webhook_id TEXT PRIMARY KEY, type TEXT NOT NULL, payment_id TEXT, amount INTEGER, currency TEXT,
        outcome TEXT NOT NULL, refund_due INTEGER NOT NULL DEFAULT 0, received_at INTEGER NOT NULL)`);
      sql.exec(`CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL, created_at INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL, sent_at INTEGER, last_error TEXT)`);
      sql.exec("INSERT INTO _migrations VALUES (1, 'cart', ?), (2, 'order', ?)", now, now);
      return sha256Hex(token).then((hash) =>
        sql.exec("INSERT INTO cart VALUES (1, ?, ?, 'open', 'USD', NULL, 1, ?, ?, ?, NULL, NULL)", id, hash, now, now, now + 900_000),
      );
    });
    await evictDurableObject(cartStub(env, id)!);
    const headers = { authorization: `Bearer ${token}`, ...clientIpHeader() };
    expect(((await (await call("GET", `/v1/carts/${id}`, { headers })).json()) as CartJson).status).toBe("open");
    const changed = (await (await put({ id, headers }, sku, 2)).json()) as CartJson;
    expect(changed.items).toMatchObject([{ sku, quantity: 2 }]);
    await expectProblem(await call("GET", `/v1/carts/${id}`, { headers: { authorization: "Bearer not-the-token" } }), 404, "not_found");
    expect(await tablesOf(cartStub(env, id)!)).not.toContain("pending_lines");
  });
});
