CREATE TABLE "storefront_keys" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"key_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone
);
--> statement-breakpoint
CREATE UNIQUE INDEX "storefront_keys_key_hash_idx" ON "storefront_keys" USING btree ("key_hash");--> statement-breakpoint
CREATE INDEX "storefront_keys_created_at_id_idx" ON "storefront_keys" USING btree ("created_at","id");