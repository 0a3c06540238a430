// TAX_MODE, TAX_SERVICE_URL and TAX_SERVICE_SECRET as settings(env) reads them (src/config.ts).
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { settings } from "../src/config";

function tax(overrides: Record<string, string | undefined>) {
  const { taxMode, taxServiceUrl, taxServiceSecret } = settings({ ...env, ...overrides } as Env);
  return { taxMode, taxServiceUrl, taxServiceSecret };
}

const URL_OK = "https://tax.example/v1/quote";

describe("tax settings", () => {
  it("are none by default, and the test project runs with none", () => {
    expect(settings(env).taxMode).toBe("none");
    expect(tax({ TAX_MODE: undefined }).taxMode).toBe("none");
    expect(tax({ TAX_MODE: "" }).taxMode).toBe("none");
    expect(tax({ TAX_MODE: "  " }).taxMode).toBe("none");
  });

  it("take each mode, whatever its case and spaces", () => {
    expect(tax({ TAX_MODE: "none", TAX_SERVICE_URL: URL_OK, TAX_SERVICE_SECRET: "whsec_a2V5" })).toEqual({
      taxMode: "none",
      taxServiceUrl: URL_OK,
      taxServiceSecret: "whsec_a2V5",
    });
    expect(tax({ TAX_MODE: "Rates" }).taxMode).toBe("rates");
    expect(tax({ TAX_MODE: " EXTERNAL ", TAX_SERVICE_URL: URL_OK }).taxMode).toBe("external");
  });

  it("fail closed on an unknown TAX_MODE: external with no service, so tax is unavailable rather than zero", () => {
    for (const mode of ["extrenal", "on", "true", "rate", "vat"]) {
      expect(tax({ TAX_MODE: mode, TAX_SERVICE_URL: URL_OK, TAX_SERVICE_SECRET: "whsec_a2V5" })).toEqual({
        taxMode: "external",
        taxServiceUrl: undefined,
        taxServiceSecret: undefined,
      });
    }
  });

  it("take an https URL anywhere, plain http only to a loopback host", () => {
    expect(tax({ TAX_SERVICE_URL: ` ${URL_OK} ` }).taxServiceUrl).toBe(URL_OK);
    for (const url of ["http://127.0.0.1:8788/tax", "http://localhost:8788/tax", "http://[::1]:8788/tax"]) {
      expect(tax({ TAX_SERVICE_URL: url }).taxServiceUrl).toBe(url);
    }
    for (const url of ["http://tax.example/quote", "http://10.0.0.7/tax", "ftp://tax.example/", "tax.example/quote", "", " "]) {
      expect(tax({ TAX_SERVICE_URL: url }).taxServiceUrl, url).toBeUndefined();
    }
  });

  it("treat an empty secret as none", () => {
    expect(tax({ TAX_SERVICE_SECRET: "" }).taxServiceSecret).toBeUndefined();
    expect(tax({ TAX_SERVICE_SECRET: undefined }).taxServiceSecret).toBeUndefined();
  });
});
