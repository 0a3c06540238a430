/**
 * Sends what an order's outbox holds (order-store.ts explains the outbox): queue messages
 * (archival, refunds, webhook events) wait for their receiver's confirmation and go again until it comes; registry
 * entries are done once the day's PaidOrdersObject recorded them. Failures are retried with
 * backoff by the cart object's alarm.
 */
import { errorFields, log } from "../platform/log";
import type { OrderStore, RegistryEntry } from "./order-store";
import { paidOrdersStub } from "./stubs";

export class OrderOutbox {
  constructor(
    private readonly env: Env,
    private readonly orders: OrderStore,
  ) {}

  /** Sends every message that is due now. */
  async drain(now: number): Promise<void> {
    for (const message of this.orders.dueMessages(now)) {
      try {
        if (message.kind === "registry") {
          const entry = JSON.parse(message.body) as RegistryEntry;
          await paidOrdersStub(this.env, new Date(entry.paid_at).toISOString().slice(0, 10)).record(entry);
          this.orders.markDelivered(message.seq, Date.now());
        } else {
          // Webhook events go to the webhooks queue; archival and refunds to the orders queue.
          const queue = message.kind === "event" ? this.env.WEBHOOKS_QUEUE : this.env.ORDERS_QUEUE;
          await queue.send(JSON.parse(message.body), { contentType: "json" });
          this.orders.markSent(message.seq, message.attempts + 1, Date.now());
        }
      } catch (error) {
        log("warn", "outbox send failed; will retry", { kind: message.kind, seq: message.seq, ...errorFields(error) });
        this.orders.markSendFailed(message.seq, message.attempts + 1, error instanceof Error ? error.message : String(error), Date.now());
      }
    }
  }
}
