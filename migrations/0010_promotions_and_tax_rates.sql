CREATE TYPE "public"."promotion_status" AS ENUM('active', 'archived');--> statement-breakpoint
CREATE TABLE "promotions" (
	"id" text PRIMARY KEY NOT NULL,
	"code" text,
	"definition" jsonb NOT NULL,
	"starts_at" timestamp with time zone,
	"ends_at" timestamp with time zone,
	"usage_limit" integer,
	"combinable" boolean DEFAULT true NOT NULL,
	"priority" integer DEFAULT 0 NOT NULL,
	"status" "promotion_status" DEFAULT 'active' NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"published_version" integer DEFAULT 0 NOT NULL,
	"deleted_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "promotions_code_normalized" CHECK ("promotions"."code" IS NULL OR "promotions"."code" = upper("promotions"."code")),
	CONSTRAINT "promotions_window" CHECK ("promotions"."starts_at" IS NULL OR "promotions"."ends_at" IS NULL OR "promotions"."ends_at" > "promotions"."starts_at"),
	CONSTRAINT "promotions_usage_limit_positive" CHECK ("promotions"."usage_limit" IS NULL OR "promotions"."usage_limit" > 0)
);
--> statement-breakpoint
CREATE TABLE "tax_rates" (
	"country" char(2) PRIMARY KEY NOT NULL,
	"basis_points" integer NOT NULL,
	"inclusive" boolean NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"published_version" integer DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "tax_rates_basis_points_range" CHECK ("tax_rates"."basis_points" BETWEEN 0 AND 10000),
	CONSTRAINT "tax_rates_country_upper" CHECK ("tax_rates"."country" ~ '^[A-Z]{2}$')
);
--> statement-breakpoint
CREATE UNIQUE INDEX "promotions_code_idx" ON "promotions" USING btree ("code");--> statement-breakpoint
CREATE INDEX "promotions_unpublished_idx" ON "promotions" USING btree ("id") WHERE "promotions"."published_version" < "promotions"."version";