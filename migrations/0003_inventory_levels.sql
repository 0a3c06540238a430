CREATE TABLE "inventory_levels" (
	"sku" text PRIMARY KEY NOT NULL,
	"on_hand" integer NOT NULL,
	"reserved" integer NOT NULL,
	"available" integer NOT NULL,
	"sold" integer NOT NULL,
	"ledger_seq" bigint NOT NULL,
	"reported_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "inventory_levels_non_negative" CHECK ("inventory_levels"."on_hand" >= 0 AND "inventory_levels"."reserved" >= 0 AND "inventory_levels"."available" >= 0)
);
--> statement-breakpoint
CREATE INDEX "inventory_levels_available_idx" ON "inventory_levels" USING btree ("available");