import { describe, expect, it } from "vitest";
import { call, expectProblem } from "./helpers";

describe("health", () => {
  it("answers 200 ok with a request id", async () => {
    const response = await call("GET", "/health");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok" });
    expect(response.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("deep check runs a query on Postgres through the Neon driver and relay", async () => {
    const response = await call("GET", "/health?deep=1");
    expect(response.status).toBe(200);
    const body = (await response.json()) as { status: string; database: { status: string; latency_ms: number } };
    expect(body.status).toBe("ok");
    expect(body.database.status).toBe("ok");
    expect(body.database.latency_ms).toBeGreaterThanOrEqual(0);
  });
});
