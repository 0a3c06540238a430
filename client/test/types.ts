/**
 * Type-level checks of the client's problem typing (tsc --noEmit -p client runs them; nothing
 * here executes): with today's document, where every problem is one `Problem` schema, and with a
 * document that gives a schema per `code` in a `oneOf`, as docs/openapi.json is about to.
 */
import type { FetchResponse } from "openapi-fetch";
import { type EdgecartError, isProblem, type operations, type ProblemCode, unwrap } from "../src/index.ts";

type Media = `${string}/${string}`;
type Expect<T extends true> = T;
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

// ---- today: one Problem schema, `code: string` ----------------------------------------------------
declare const today: FetchResponse<operations["setCartItem"], object, Media>;
if (today.error !== undefined) {
  if (isProblem(today.error, "version_mismatch")) {
    type _narrowed = Expect<Equal<typeof today.error.code, "version_mismatch">>;
    const detail: string = today.error.detail;
    void detail;
  }
}
const cart = unwrap(today);
type _cart = Expect<Equal<typeof cart.version, number>>;

// ---- soon: a schema per code ----------------------------------------------------------------------
interface ProblemBase {
  type: string;
  title: string;
  status: number;
  detail: string;
  request_id: string;
}
type InsufficientStock = ProblemBase & { code: "insufficient_stock"; available: number; sku: string };
type CartNotOpen = ProblemBase & { code: "cart_not_open"; cart_status: "checked_out" | "expired" };
type VersionMismatch = ProblemBase & { code: "version_mismatch"; version: number };
interface FutureSetCartItem {
  parameters: { query?: never; header?: never; path: { cart_id: string; sku: string }; cookie?: never };
  requestBody: { content: { "application/json": { quantity: number } } };
  responses: {
    200: { headers: Record<string, unknown>; content: { "application/json": { version: number } } };
    409: { headers: Record<string, unknown>; content: { "application/problem+json": InsufficientStock | CartNotOpen } };
    412: { headers: Record<string, unknown>; content: { "application/problem+json": VersionMismatch } };
  };
}
declare const soon: FetchResponse<FutureSetCartItem, object, Media>;
if (soon.error !== undefined) {
  type _codes = Expect<Equal<ProblemCode<typeof soon.error>, "insufficient_stock" | "cart_not_open" | "version_mismatch">>;
  if (isProblem(soon.error, "insufficient_stock")) {
    const available: number = soon.error.available;
    void available;
  }
  switch (soon.error.code) {
    case "cart_not_open": {
      const status: "checked_out" | "expired" = soon.error.cart_status;
      void status;
      break;
    }
    case "version_mismatch": {
      const version: number = soon.error.version;
      void version;
      break;
    }
  }
  // @ts-expect-error: not a code this operation answers
  isProblem(soon.error, "no_such_code");
}
declare const thrown: EdgecartError<NonNullable<typeof soon.error>>;
if (thrown.problem.code === "insufficient_stock") {
  const sku: string = thrown.problem.sku;
  void sku;
}
