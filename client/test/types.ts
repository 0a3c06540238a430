/**
 * Type-level checks of the client's problem typing (tsc --noEmit -p client runs them; nothing
 * here executes): with the document as it is, a problem schema per `code` in a `oneOf` per status,
 * and with a document that would type every problem alike (`code: string`).
 */
import type { FetchResponse } from "openapi-fetch";
import { type EdgecartError, isProblem, type operations, type Problem, type ProblemCode, type ProblemOf, unwrap } from "../src/index.ts";

type Media = `${string}/${string}`;
type Expect<T extends true> = T;
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

// ---- the document: a schema per code ----------------------------------------------------------------
declare const put: FetchResponse<operations["setCartItem"], object, Media>;
if (put.error !== undefined) {
  type Codes = ProblemCode<typeof put.error>;
  // The codes a cart line change answers include its own and the pipeline's.
  type _own = Expect<
    Equal<
      Extract<Codes, "insufficient_stock" | "version_mismatch" | "quantity_limit_exceeded">,
      "insufficient_stock" | "version_mismatch" | "quantity_limit_exceeded"
    >
  >;
  type _notCheckout = Expect<Equal<Extract<Codes, "price_changed">, never>>;
  if (isProblem(put.error, "insufficient_stock")) {
    const available: number = put.error.available;
    void available;
  }
  switch (put.error.code) {
    case "version_mismatch": {
      const version: number = put.error.version;
      void version;
      break;
    }
    case "quantity_limit_exceeded":
      break;
  }
  // @ts-expect-error: a code this operation never answers
  isProblem(put.error, "price_changed");
}
const cart = unwrap(put);
type _cart = Expect<Equal<typeof cart.version, number>>;

declare const checkout: FetchResponse<operations["checkout"], object, Media>;
if (checkout.error !== undefined && isProblem(checkout.error, "price_changed")) {
  const repriced: number = checkout.error.cart.version;
  void repriced;
}

type _problemOf = Expect<Equal<ProblemOf<"version_mismatch">["version"], number>>;
type _problemCodes = Expect<Equal<Extract<Problem["code"], "internal" | "not_found">, "internal" | "not_found">>;

declare const thrown: EdgecartError<NonNullable<typeof put.error>>;
if (thrown.problem.code === "insufficient_stock") {
  const available: number = thrown.problem.available;
  void available;
}

// ---- a document typing every problem alike ------------------------------------------------------
interface AnyProblem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  request_id: string;
}
interface PlainOperation {
  parameters: { query?: never; header?: never; path: { cart_id: string }; cookie?: never };
  requestBody?: never;
  responses: {
    200: { headers: Record<string, unknown>; content: { "application/json": { version: number } } };
    409: { headers: Record<string, unknown>; content: { "application/problem+json": AnyProblem } };
  };
}
declare const plain: FetchResponse<PlainOperation, object, Media>;
if (plain.error !== undefined && isProblem(plain.error, "cart_not_open")) {
  type _narrowed = Expect<Equal<typeof plain.error.code, "cart_not_open">>;
  const detail: string = plain.error.detail;
  void detail;
}
