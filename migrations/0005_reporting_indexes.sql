DROP INDEX "orders_status_created_at_idx";--> statement-breakpoint
CREATE INDEX "orders_status_created_at_id_idx" ON "orders" USING btree ("status","created_at","id");--> statement-breakpoint
CREATE INDEX "orders_paid_day_idx" ON "orders" USING btree ((("paid_at" AT TIME ZONE 'UTC')::date)) WHERE "orders"."status" = 'paid';