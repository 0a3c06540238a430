ALTER TYPE "public"."order_status" ADD VALUE 'paid_unfulfillable' BEFORE 'cancelled';--> statement-breakpoint
CREATE TABLE "refunds_due" (
	"order_id" text NOT NULL,
	"payment_id" text NOT NULL,
	"amount" bigint NOT NULL,
	"currency" char(3) NOT NULL,
	"reason" text NOT NULL,
	"recorded_at" timestamp with time zone NOT NULL,
	"refunded_at" timestamp with time zone,
	CONSTRAINT "refunds_due_order_id_payment_id_pk" PRIMARY KEY("order_id","payment_id")
);
--> statement-breakpoint
CREATE INDEX "refunds_due_recorded_at_idx" ON "refunds_due" USING btree ("recorded_at","order_id");