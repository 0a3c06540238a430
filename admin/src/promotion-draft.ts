/**
 * A promotion as the dashboard's form holds it (every field as typed) and the body PUT sends: the
 * conversion both ways, exact (percentages to basis points, prices to minor units, local times
 * to UTC instants), and the first field that cannot be sent, so nothing half-valid leaves the tab.
 */
import { formatPercent, minorDigits, parseMajor, parsePercent, toMajor } from "./format";
import type { PromotionBody, PromotionView } from "./types";

export type TargetKind = "order" | "skus" | "products" | "categories";

export interface PromotionDraft {
  id: string;
  code: string;
  valueKind: "percent" | "fixed";
  percent: string;
  amounts: string;
  targetKind: TargetKind;
  targets: string;
  allocation: "across" | "each";
  minSubtotal: string;
  minQuantity: string;
  usageLimit: string;
  combinable: boolean;
  priority: string;
  status: "active" | "archived";
  startsAt: string;
  endsAt: string;
}

export const EMPTY_DRAFT: PromotionDraft = {
  id: "",
  code: "",
  valueKind: "percent",
  percent: "",
  amounts: "",
  targetKind: "order",
  targets: "",
  allocation: "across",
  minSubtotal: "",
  minQuantity: "",
  usageLimit: "",
  combinable: true,
  priority: "0",
  status: "active",
  startsAt: "",
  endsAt: "",
};

/** Why the draft cannot be sent: the form field (its element id) and what to fix. */
export interface DraftError {
  field: keyof PromotionDraft;
  message: string;
}

const pad = (n: number) => String(n).padStart(2, "0");

/** An instant as a `datetime-local` value in the browser's time zone (to the second). */
export function toLocalInput(iso: string | null): string {
  if (iso === null) return "";
  const d = new Date(iso);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** A `datetime-local` value (the browser's time zone) as a UTC instant; null when empty, undefined when invalid. */
function fromLocalInput(text: string): string | null | undefined {
  if (text.trim() === "") return null;
  const time = new Date(text).getTime();
  return Number.isNaN(time) ? undefined : new Date(time).toISOString();
}

/** Amounts per currency as typed: "EUR 5.00; JPY 700" (or one per line). */
export function formatAmounts(amounts: Record<string, number> | undefined): string {
  return Object.entries(amounts ?? {})
    .map(([currency, amount]) => `${currency} ${toMajor(amount, currency)}`)
    .join("; ");
}

/** Parses amounts per currency; a message saying what is wrong, or the amounts in minor units. */
export function parseAmounts(text: string): Record<string, number> | string {
  const amounts: Record<string, number> = {};
  const parts = text
    .split(/[;\n]/)
    .map((part) => part.trim())
    .filter(Boolean);
  if (parts.length === 0) return "name at least one currency and amount, e.g. EUR 5.00";
  for (const part of parts) {
    const match = /^([A-Za-z]{3})\s+(\S+)$/.exec(part);
    if (!match) return `“${part}” is not a currency and an amount, e.g. EUR 5.00`;
    const currency = match[1]!.toUpperCase();
    const amount = parseMajor(match[2]!, currency);
    if (amount === null) {
      const digits = minorDigits(currency);
      return `“${part}” is not a valid amount in ${currency} (${digits === 0 ? "whole units only" : `at most ${digits} decimals`})`;
    }
    if (currency in amounts) return `${currency} is named twice`;
    amounts[currency] = amount;
  }
  return amounts;
}

function targetsOf(view: PromotionView): string {
  const target = view.target;
  if (target.kind === "skus") return target.skus.join("\n");
  if (target.kind === "products") return target.product_ids.join("\n");
  if (target.kind === "categories") return target.categories.join("\n");
  return "";
}

/** The form's copy of a promotion. */
export function draftOf(view: PromotionView): PromotionDraft {
  return {
    id: view.id,
    code: view.code ?? "",
    valueKind: view.value.kind,
    percent: view.value.kind === "percent" ? formatPercent(view.value.basis_points).replace(" %", "") : "",
    amounts: view.value.kind === "fixed" ? formatAmounts(view.value.amounts) : "",
    targetKind: view.target.kind,
    targets: targetsOf(view),
    allocation: view.allocation,
    minSubtotal: formatAmounts(view.conditions.min_subtotal),
    minQuantity: view.conditions.min_quantity === undefined ? "" : String(view.conditions.min_quantity),
    usageLimit: view.usage_limit === null ? "" : String(view.usage_limit),
    combinable: view.combinable,
    priority: String(view.priority),
    status: view.status,
    startsAt: toLocalInput(view.starts_at),
    endsAt: toLocalInput(view.ends_at),
  };
}

function wholeNumber(text: string): number | null | undefined {
  if (text.trim() === "") return null;
  return /^-?\d+$/.test(text.trim()) ? Number(text.trim()) : undefined;
}

/** The PUT body, or the first field that cannot be sent. The server checks everything again. */
export function bodyOf(draft: PromotionDraft): { body: PromotionBody } | DraftError {
  let value: PromotionBody["value"];
  if (draft.valueKind === "percent") {
    const basisPoints = parsePercent(draft.percent);
    if (basisPoints === null || basisPoints === 0)
      return { field: "percent", message: "Enter a percentage above 0 and up to 100, with at most 2 decimals (e.g. 10 or 12.5)." };
    value = { kind: "percent", basis_points: basisPoints };
  } else {
    const amounts = parseAmounts(draft.amounts);
    if (typeof amounts === "string") return { field: "amounts", message: `Amount off: ${amounts}.` };
    value = { kind: "fixed", amounts };
  }
  const list = draft.targets.split(/[\s,]+/).filter(Boolean);
  if (draft.targetKind !== "order" && list.length === 0)
    return { field: "targets", message: `Name at least one of the ${draft.targetKind} the promotion applies to.` };
  const target: PromotionBody["target"] =
    draft.targetKind === "skus"
      ? { kind: "skus", skus: list }
      : draft.targetKind === "products"
        ? { kind: "products", product_ids: list }
        : draft.targetKind === "categories"
          ? { kind: "categories", categories: list }
          : { kind: "order" };
  const conditions: NonNullable<PromotionBody["conditions"]> = {};
  if (draft.minSubtotal.trim() !== "") {
    const minimum = parseAmounts(draft.minSubtotal);
    if (typeof minimum === "string") return { field: "minSubtotal", message: `Minimum subtotal: ${minimum}.` };
    conditions.min_subtotal = minimum;
  }
  const minQuantity = wholeNumber(draft.minQuantity);
  if (minQuantity === undefined || (minQuantity !== null && minQuantity < 1))
    return { field: "minQuantity", message: "The minimum quantity is a whole number of at least 1, or empty." };
  if (minQuantity !== null) conditions.min_quantity = minQuantity;
  const usageLimit = wholeNumber(draft.usageLimit);
  if (usageLimit === undefined || (usageLimit !== null && usageLimit < 1))
    return { field: "usageLimit", message: "The usage limit is a whole number of at least 1, or empty for no limit." };
  const priority = wholeNumber(draft.priority);
  if (priority === undefined) return { field: "priority", message: "The priority is a whole number (higher goes first)." };
  const startsAt = fromLocalInput(draft.startsAt);
  if (startsAt === undefined) return { field: "startsAt", message: "The start is not a valid time." };
  const endsAt = fromLocalInput(draft.endsAt);
  if (endsAt === undefined) return { field: "endsAt", message: "The end is not a valid time." };
  return {
    body: {
      code: draft.code.trim() === "" ? null : draft.code.trim(),
      value,
      target,
      allocation: draft.allocation,
      conditions,
      usage_limit: usageLimit,
      combinable: draft.combinable,
      priority: priority ?? 0,
      status: draft.status,
      starts_at: startsAt,
      ends_at: endsAt,
    },
  };
}

/** The value as a person reads it: "10 %" or "€5.00 / ¥700". */
export function describeValue(view: PromotionView): string {
  if (view.value.kind === "percent") return `${formatPercent(view.value.basis_points)} off`;
  return `${formatAmounts(view.value.amounts).replaceAll("; ", " / ")} off`;
}

/** What it applies to, briefly. */
export function describeTarget(view: PromotionView): string {
  const target = view.target;
  if (target.kind === "order") return "the order";
  const list = target.kind === "skus" ? target.skus : target.kind === "products" ? target.product_ids : target.categories;
  const shown = list.slice(0, 3).join(", ");
  const noun = target.kind === "skus" ? "SKUs" : target.kind;
  return `${noun} ${shown}${list.length > 3 ? ` and ${list.length - 3} more` : ""}${view.allocation === "each" ? " (each unit)" : ""}`;
}
