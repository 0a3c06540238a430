// Fuzzing every operation of the served OpenAPI document (fetched at run time, so new routes are
// covered as they appear) with hostile requests: wrong and missing and extra fields, extreme
// numbers, odd strings and ids (unicode, very long, path traversal, percent-encoding, NUL),
// wrong methods, bad headers (content-type, authorization garbage, huge Idempotency-Keys, If-Match
// garbage), malformed and oversized bodies. A fraction carries valid credentials (the admin token,
// real cart tokens, correctly signed webhooks) so the fuzzer gets past authentication.
//
// Asserted: no answer is a 5xx; every 4xx is RFC 9457 problem+json with its members; and no
// rejected request changes state. State is a stocked SKU (its stock, holds and catalog entry), an
// open cart, a checked-out cart and its pending order, and (at the end) the product in Postgres.
// Requests that carry no valid credential (or only read) run in concurrent batches, and the state
// must be identical across each batch; requests with a valid credential that could legitimately
// change something run one at a time, each between two snapshots, and may change the state only
// when they are accepted (2xx, or 409 price_changed, which reprices the cart by design).
//
// Five runs of REQUESTS requests each: a fresh seed and four kept seeds, split across this file and
// test/fuzz-seeds.test.ts so that the two halves run at once, each in a runtime of its own
// (vitest.config.ts); one file of all five was the suite's critical path.
//
// Seeds that found something, kept as fixed runs beside the fresh one: 760680742, a replayed
// answer (its first request's request_id, by contract) reported as a defect by this checker;
// 765916553, a backlog walk over 8,000 days that answered 500 and starved the runtime;
// 777841346, DELETE of a promotion code on a cart that was never changed answered 500;
// 816950192, a storefront key named with a NUL character, which Postgres refused (500).
// A seed replays the requests that found its defect only while the served operations are the
// same (the requests are drawn from them): the API has grown since the first two were found.
// So each finding also has a test of its own: idempotency-records.test.ts (a replay's
// request_id), payment-recovery.test.ts (the bounded backlog walk), promotions.test.ts (the
// code on an unchanged cart), hostile-input.test.ts (NUL).
import { fuzzing, keptSeeds, REQUESTS } from "./lib/fuzz-run";

// Here the fresh seed and two kept seeds; the other two, about as long together, in
// test/fuzz-seeds.test.ts.
fuzzing([
  {
    name: `answers ${REQUESTS} hostile requests without a 5xx, with problem+json for every 4xx, and no rejected request changes state (a new seed each run)`,
    seed: () => Date.now() % 2 ** 31,
  },
  ...keptSeeds([777841346, 816950192]),
]);
