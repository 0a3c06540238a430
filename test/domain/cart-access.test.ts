import { describe, expect, it } from "vitest";
import { cartAccess, cartIdOfToken, mintCartToken } from "../../src/domain/cart-access";
import { base64UrlEncode, hmacSha256 } from "../../src/platform/crypto";

const SECRET = "test-secret-0123456789abcdef0123456789abcdef";
const claims = { cartId: "ab".repeat(32), currency: "EUR", region: "eu" as const, createdAt: 1_790_000_000_000 };

describe("cart tokens", () => {
  it("name their cart and prove its claims; another cart's id, a changed byte or another secret prove nothing", async () => {
    const token = await mintCartToken([SECRET], claims);
    expect(cartIdOfToken(token)).toBe(claims.cartId);
    expect(await cartAccess([SECRET], claims.cartId, token)).toEqual({ kind: "claims", claims });
    expect(await cartAccess([SECRET], "cd".repeat(32), token)).toBeNull();
    expect(await cartAccess(["another-secret", SECRET], claims.cartId, token)).toEqual({ kind: "claims", claims });
    expect(await cartAccess(["another-secret"], claims.cartId, token)).toBeNull();
    const tampered = token.replace(".EUR.", ".USD.");
    expect(await cartAccess([SECRET], claims.cartId, tampered)).toBeNull();
  });

  it("still verifies tokens minted before they named their cart (ct1), which name no cart", async () => {
    const mac = base64UrlEncode(await hmacSha256(SECRET, ["ct1", claims.cartId, "EUR", "eu", claims.createdAt.toString(36)].join("\n")));
    const old = ["ct1", "EUR", "eu", claims.createdAt.toString(36), mac].join(".");
    expect(cartIdOfToken(old)).toBeNull();
    expect(await cartAccess([SECRET], claims.cartId, old)).toEqual({ kind: "claims", claims });
    expect(await cartAccess([SECRET], "cd".repeat(32), old)).toBeNull();
  });

  it("treats a token of no known format as an old random token for the object to check", async () => {
    expect(cartIdOfToken("random-old-token")).toBeNull();
    expect(await cartAccess([SECRET], claims.cartId, "random-old-token")).toMatchObject({ kind: "legacy" });
    expect(await cartAccess([SECRET], claims.cartId, `ct2.${"A".repeat(43)}.EUR.-.abc.${"A".repeat(43)}`)).toBeNull();
  });
});
