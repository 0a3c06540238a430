// ReadMemo (src/objects/read-memo.ts): what a cart object remembers of its own reads, and when it
// forgets. Run inside a real object for its storage's transactions.
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ReadMemo } from "../src/objects/read-memo";
import { cartStub, newCartId } from "../src/objects/stubs";

const inObject = <T>(run: (storage: DurableObjectStorage) => T) =>
  runInDurableObject(cartStub(env, newCartId(env, null).toString())!, (_i, state) => run(state.storage));

describe("ReadMemo", () => {
  it("forgets only the keys a write names, and everything when it names none", async () => {
    await inObject(() => {
      const memo = new ReadMemo();
      let reads = 0;
      const read = (key: string) => memo.value(key, () => ({ key, n: ++reads }));
      read("a");
      read("b");
      expect(read("a").n).toBe(1);
      memo.forget(["a"]);
      expect(read("a").n).toBe(3);
      expect(read("b").n).toBe(2);
      memo.forget();
      expect(read("b").n).toBe(4);
    });
  });

  it("remembers a written value as a read (frozen, no read run) and peeks without reading", async () => {
    await inObject(() => {
      const memo = new ReadMemo();
      let reads = 0;
      expect(memo.peek("a")).toBeUndefined();
      memo.remember("a", { v: 1 });
      expect(memo.value("a", () => ({ v: ++reads }))).toEqual({ v: 1 });
      expect(reads).toBe(0);
      expect(Object.isFrozen(memo.peek("a"))).toBe(true);
      memo.forget(["a"]);
      expect(memo.peek("a")).toBeUndefined();
      expect(memo.value("a", () => ({ v: ++reads }))).toEqual({ v: 1 });
      expect(reads).toBe(1);
    });
  });

  it("keeps other keys across a transaction that names its own, and forgets every read when one rolls back", async () => {
    await inObject((storage) => {
      storage.sql.exec("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)");
      storage.sql.exec("INSERT INTO t VALUES ('a', 1), ('b', 1)");
      const memo = new ReadMemo();
      const read = (key: string) => memo.value(key, () => storage.sql.exec<{ v: number }>("SELECT v FROM t WHERE k = ?", key).one()).v;
      expect([read("a"), read("b")]).toEqual([1, 1]);
      memo.transaction(storage, () => storage.sql.exec("UPDATE t SET v = 2 WHERE k = 'a'"), ["a"]);
      expect([read("a"), read("b")]).toEqual([2, 1]);
      // b changes behind the memo's back: still remembered (only a's write happened through it).
      storage.sql.exec("UPDATE t SET v = 3 WHERE k = 'b'");
      expect(read("b")).toBe(1);
      // A transaction that reads b inside and rolls back leaves nothing remembered.
      expect(() =>
        memo.transaction(storage, () => {
          storage.sql.exec("UPDATE t SET v = 9 WHERE k = 'a'");
          expect(read("a")).toBe(9);
          throw new Error("rolled back");
        }, ["a"]),
      ).toThrow("rolled back");
      expect([read("a"), read("b")]).toEqual([2, 3]);
    });
  });
});
