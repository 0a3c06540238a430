/** The bench routes of the central-database design: carts and holds as Postgres rows (bench/worker/postgres.ts). */
import { bearer, body, CART, int, json, problem, type Route, randomHex, requireAdmin, SKU, sha256Hex } from "./http";
import {
  type Connection,
  createCart,
  type Reservation,
  reserveForUpdate,
  reserveSingle,
  setStock,
  sqlState,
  stockLevel,
  withConnection,
} from "./postgres";

export const postgresRoutes: Route[] = [
  [
    "POST",
    /^\/bench\/pg\/(request|pooled)\/carts$/,
    async (request, env, ctx, [conn]) => {
      await request.arrayBuffer();
      const id = randomHex();
      const token = randomHex(32);
      const tokenHash = await sha256Hex(token);
      await withConnection(env, ctx, conn as Connection, (db) => createCart(db, id, tokenHash));
      return json({ id, token }, 201);
    },
  ],
  [
    "PUT",
    new RegExp(`^/bench/pg/(request|pooled)/carts/(${CART})/items/(${SKU})$`),
    async (request, env, ctx, [conn, cartId, sku], url) => {
      const token = bearer(request);
      if (token === null) return problem(401, "unauthorized", "This route needs the cart's bearer token.");
      const quantity = int((await body(request)).quantity, "quantity", 1, 1000);
      const lock = url.searchParams.get("lock") ?? "single";
      if (lock !== "single" && lock !== "for-update") return problem(400, "invalid_request", "lock must be single or for-update.");
      const tokenHash = await sha256Hex(token);
      let result: Reservation;
      try {
        result = await withConnection(env, ctx, conn as Connection, (db) =>
          (lock === "for-update" ? reserveForUpdate : reserveSingle)(db, cartId!, tokenHash, sku!, quantity),
        );
      } catch (error) {
        if (sqlState(error) === "23505") return problem(409, "line_exists", "This bench cart already holds that SKU.");
        throw error;
      }
      switch (result.outcome) {
        case "granted":
          return json({ cart_id: cartId, sku, quantity, available: result.available });
        case "refused":
          return problem(409, "insufficient_stock", `Only ${result.available} of ${sku} can be held.`, { available: result.available });
        case "no_cart":
          return problem(404, "not_found", "No such cart.");
        case "no_sku":
          return problem(404, "not_found", "No such SKU.");
      }
    },
  ],
  [
    "PUT",
    new RegExp(`^/bench/pg/stock/(${SKU})$`),
    async (request, env, ctx, [sku]) => {
      requireAdmin(request, env);
      const available = int((await body(request)).available, "available", 0, 1_000_000_000);
      const level = await withConnection(env, ctx, "pooled", async (db) => {
        await setStock(db, sku!, available);
        return stockLevel(db, sku!);
      });
      return json(level);
    },
  ],
  [
    "GET",
    new RegExp(`^/bench/pg/stock/(${SKU})$`),
    async (request, env, ctx, [sku]) => {
      requireAdmin(request, env);
      const level = await withConnection(env, ctx, "pooled", (db) => stockLevel(db, sku!));
      return level === null ? problem(404, "not_found", "No such SKU.") : json(level);
    },
  ],
];
