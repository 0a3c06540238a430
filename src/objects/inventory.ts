import { DurableObject } from "cloudflare:workers";

/** One SKU's stock: on_hand, holds and the movement ledger. */
export class InventoryObject extends DurableObject<Env> {}
