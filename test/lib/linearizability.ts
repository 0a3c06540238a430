/**
 * A linearizability checker (Wing & Gong's search with Lowe's / Porcupine's memoization) and a
 * sequential specification of one SKU's inventory, written from docs/api.md and docs/storage.md
 * without importing anything from src/.
 *
 * A history is a set of completed operations, each with its input, its observed output, and the
 * positions of its invocation and response in the real-time order. The history is linearizable
 * when some total order of the operations (1) respects real time — an operation that responded
 * before another was invoked comes first — and (2) makes the sequential model produce exactly
 * the observed outputs. The search extends a linearized prefix with one *minimal* operation at a
 * time (one invoked before every still-unlinearized operation responded), backtracks on a
 * mismatch, and never revisits a (linearized set, model state) pair it has already explored.
 */

/** One completed operation of a history. */
export interface Operation<I, O> {
  /** Position in the history as recorded (used in reports). */
  id: number;
  input: I;
  output: O;
  /** Invocation and response positions in the real-time order; `call < ret`, all distinct. */
  call: number;
  ret: number;
}

/** A sequential specification: an initial state and a deterministic step. */
export interface Model<S, I, O> {
  init(): S;
  step(state: S, input: I): { state: S; output: O };
  /** Whether the output the model computed is the one observed. */
  matches(expected: O, observed: O): boolean;
  /** A canonical key of a state (for memoization). */
  key(state: S): string;
}

export type CheckResult = { ok: true; order: number[]; explored: number } | { ok: false; explored: number; longestPrefix: number[] };

/**
 * Decides whether `history` is linearizable with respect to `model`. Exponential in the worst
 * case, so meant for short histories (tens of operations); memoization keeps typical ones fast.
 */
export function checkLinearizable<S, I, O>(model: Model<S, I, O>, history: ReadonlyArray<Operation<I, O>>): CheckResult {
  const ops = [...history].sort((a, b) => a.call - b.call);
  for (const op of ops) if (!(op.call < op.ret)) throw new Error(`operation ${op.id} responds before it is invoked`);
  const n = ops.length;
  const visited = new Set<string>();
  const order: number[] = [];
  let longest: number[] = [];
  let explored = 0;

  // The linearized set as a bit string (no 31-operation limit as with a number mask).
  const linearized = new Uint8Array(n);
  const maskKey = () => linearized.join("");

  const search = (state: S, done: number): boolean => {
    if (done === n) return true;
    let earliestReturn = Infinity;
    for (let i = 0; i < n; i++) if (!linearized[i]) earliestReturn = Math.min(earliestReturn, ops[i]!.ret);
    for (let i = 0; i < n; i++) {
      const op = ops[i]!;
      // Minimal: invoked before every pending operation responded (ops are sorted by call).
      if (op.call > earliestReturn) break;
      if (linearized[i]) continue;
      const next = model.step(state, op.input);
      explored++;
      if (!model.matches(next.output, op.output)) continue;
      linearized[i] = 1;
      const memo = `${maskKey()}|${model.key(next.state)}`;
      if (!visited.has(memo)) {
        visited.add(memo);
        order.push(op.id);
        if (order.length > longest.length) longest = [...order];
        if (search(next.state, done + 1)) return true;
        order.pop();
      }
      linearized[i] = 0;
    }
    return false;
  };

  return search(model.init(), 0) ? { ok: true, order: [...order], explored } : { ok: false, explored, longestPrefix: longest };
}

// ---- The inventory specification ----------------------------------------------------------------

/** Operations on one SKU, as the InventoryObject's RPC methods take them (no expiry: long TTLs). */
export type InventoryInput =
  | { kind: "hold"; holdId: string; owner: string; quantity: number }
  | { kind: "release"; holdId: string }
  | { kind: "commit"; holdId: string }
  | { kind: "adjust"; delta: number; opId: string };

/** The observable part of an answer: outcome, reason and the stock levels it reports. */
export type InventoryOutput =
  | { ok: true; on_hand: number; reserved: number; available: number; quantity?: number; released?: number; duplicate?: boolean }
  | { ok: false; reason: string; available?: number; reserved?: number; on_hand?: number };

/** One SKU's state: stock on hand, live holds, sold holds and applied adjustment ids. */
export interface InventoryState {
  onHand: number;
  holds: ReadonlyMap<string, { owner: string; quantity: number }>;
  committed: ReadonlyMap<string, number>;
  adjustments: ReadonlySet<string>;
}

function reservedOf(state: InventoryState): number {
  let sum = 0;
  for (const hold of state.holds.values()) sum += hold.quantity;
  return sum;
}

function levelsOf(state: InventoryState) {
  const reserved = reservedOf(state);
  return { on_hand: state.onHand, reserved, available: state.onHand - reserved };
}

/** The next state of one operation: a hold sets the hold to exactly `quantity` (0 releases it). */
export function inventoryStep(state: InventoryState, input: InventoryInput): { state: InventoryState; output: InventoryOutput } {
  const same = (output: InventoryOutput) => ({ state, output });
  switch (input.kind) {
    case "hold": {
      if (state.committed.has(input.holdId)) return same({ ok: false, reason: "hold_committed" });
      const existing = state.holds.get(input.holdId);
      if (existing && existing.owner !== input.owner) return same({ ok: false, reason: "hold_owner_mismatch" });
      const holds = new Map(state.holds);
      if (input.quantity === 0) {
        holds.delete(input.holdId);
        const next = { ...state, holds };
        return { state: next, output: { ok: true, quantity: 0, ...levelsOf(next) } };
      }
      const current = existing?.quantity ?? 0;
      const free = state.onHand - reservedOf(state);
      // Growth must fit in what is free; shrinking always succeeds.
      if (input.quantity - current > free) return same({ ok: false, reason: "insufficient_stock", available: free + current });
      holds.set(input.holdId, { owner: input.owner, quantity: input.quantity });
      const next = { ...state, holds };
      return { state: next, output: { ok: true, quantity: input.quantity, ...levelsOf(next) } };
    }
    case "release": {
      const existing = state.holds.get(input.holdId);
      if (!existing) return same({ ok: true, released: 0, ...levelsOf(state) });
      const holds = new Map(state.holds);
      holds.delete(input.holdId);
      const next = { ...state, holds };
      return { state: next, output: { ok: true, released: existing.quantity, ...levelsOf(next) } };
    }
    case "commit": {
      const done = state.committed.get(input.holdId);
      if (done !== undefined) return same({ ok: true, quantity: done, duplicate: true, ...levelsOf(state) });
      const existing = state.holds.get(input.holdId);
      if (!existing) return same({ ok: false, reason: "hold_not_found" });
      const holds = new Map(state.holds);
      holds.delete(input.holdId);
      const next = {
        ...state,
        onHand: state.onHand - existing.quantity,
        holds,
        committed: new Map(state.committed).set(input.holdId, existing.quantity),
      };
      return { state: next, output: { ok: true, quantity: existing.quantity, duplicate: false, ...levelsOf(next) } };
    }
    case "adjust": {
      if (state.adjustments.has(input.opId)) return same({ ok: true, duplicate: true, ...levelsOf(state) });
      const target = state.onHand + input.delta;
      const reserved = reservedOf(state);
      if (target < reserved || target < 0) return same({ ok: false, reason: "below_reserved", reserved, on_hand: state.onHand });
      const next = { ...state, onHand: target, adjustments: new Set(state.adjustments).add(input.opId) };
      return { state: next, output: { ok: true, duplicate: false, ...levelsOf(next) } };
    }
  }
}

/** JSON with sorted keys: outputs compare by content, whatever order their fields came in. */
function canonical(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  return `{${Object.keys(value)
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
    .join(",")}}`;
}

/** The inventory model for a SKU that starts with `onHand` units and nothing held. */
export function inventoryModel(onHand: number): Model<InventoryState, InventoryInput, InventoryOutput> {
  return {
    init: () => ({ onHand, holds: new Map(), committed: new Map(), adjustments: new Set() }),
    step: inventoryStep,
    matches: (expected, observed) => canonical(expected) === canonical(observed),
    key: (state) =>
      canonical({
        onHand: state.onHand,
        holds: [...state.holds].sort(([a], [b]) => a.localeCompare(b)),
        committed: [...state.committed].sort(([a], [b]) => a.localeCompare(b)),
        adjustments: [...state.adjustments].sort(),
      }),
  };
}
