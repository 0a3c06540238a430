export interface PaymentEvent {
  type: "payment.succeeded" | "payment.failed";
  data: { order_id: string; amount: number; currency: string; payment_id: string };
}

export function signedPaymentEvent(options: {
  secret: string;
  type?: PaymentEvent["type"];
  orderId: string;
  amount: number;
  currency: string;
  paymentId?: string;
  id?: string;
}): {
  event: PaymentEvent;
  body: string;
  headers: { "content-type": "application/json"; "webhook-id": string; "webhook-timestamp": string; "webhook-signature": string };
};
