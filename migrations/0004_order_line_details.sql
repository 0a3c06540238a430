ALTER TABLE "order_lines" ADD COLUMN "product_id" text;--> statement-breakpoint
ALTER TABLE "order_lines" ADD COLUMN "title" text;--> statement-breakpoint
ALTER TABLE "order_lines" ADD COLUMN "position" integer;--> statement-breakpoint
-- Lines archived before these columns existed: take the product and title their SKU has now.
UPDATE "order_lines" AS l SET "product_id" = s."product_id", "title" = s."title" FROM "skus" AS s WHERE s."sku" = l."sku" AND l."product_id" IS NULL;
