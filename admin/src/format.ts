/**
 * Money in minor units and dates, formatted for the browser's locale and time zone.
 */
import type { Money } from "./types";

const currencyFormats = new Map<string, Intl.NumberFormat>();

function currencyFormat(currency: string): Intl.NumberFormat {
  let format = currencyFormats.get(currency);
  if (!format) {
    format = new Intl.NumberFormat(undefined, { style: "currency", currency });
    currencyFormats.set(currency, format);
  }
  return format;
}

/** Digits after the decimal point of a currency's minor unit: 2 for USD and EUR, 0 for JPY. */
export function minorDigits(currency: string): number {
  return currencyFormat(currency).resolvedOptions().maximumFractionDigits ?? 2;
}

/** An amount in minor units as an exact decimal string in major units: 1999 USD → "19.99", 1500 JPY → "1500". */
export function toMajor(amount: number, currency: string): string {
  const digits = minorDigits(currency);
  const sign = amount < 0 ? "-" : "";
  const text = String(Math.abs(amount));
  if (digits === 0) return `${sign}${text}`;
  const padded = text.padStart(digits + 1, "0");
  return `${sign}${padded.slice(0, -digits)}.${padded.slice(-digits)}`;
}

/**
 * Parses a price typed in major units ("19.99", "19,9", "1500") into minor units, exactly (no
 * floating point). Null when it is not a non-negative amount with at most the currency's digits.
 */
export function parseMajor(text: string, currency: string): number | null {
  const digits = minorDigits(currency);
  const match = /^(\d+)(?:[.,](\d*))?$/.exec(text.trim());
  if (!match) return null;
  const fraction = match[2] ?? "";
  if (fraction.length > digits) return null;
  const minor = Number(`${match[1]}${fraction.padEnd(digits, "0")}`);
  return Number.isSafeInteger(minor) ? minor : null;
}

/** A rate in basis points as a percentage: 1900 → "19 %", 1250 → "12.5 %", 5 → "0.05 %". */
export function formatPercent(basisPoints: number): string {
  const whole = Math.trunc(basisPoints / 100);
  const fraction = String(basisPoints % 100)
    .padStart(2, "0")
    .replace(/0+$/, "");
  return `${whole}${fraction ? `.${fraction}` : ""} %`;
}

/** A percentage as typed ("19", "7.5", "12,25") in basis points, exactly; null unless 0–100 with at most 2 decimals. */
export function parsePercent(text: string): number | null {
  const match = /^(\d{1,3})(?:[.,](\d{0,2}))?$/.exec(text.trim().replace(/\s*%$/, ""));
  if (!match) return null;
  const basisPoints = Number(match[1]) * 100 + Number((match[2] ?? "").padEnd(2, "0"));
  return basisPoints <= 10_000 ? basisPoints : null;
}

/** Money for display: `{amount: 1999, currency: "USD"}` → "$19.99"; JPY has no decimals. */
export function formatMoney(money: Money): string {
  // A decimal string keeps every digit exact (Intl.NumberFormat formats strings as decimals).
  return currencyFormat(money.currency).format(toMajor(money.amount, money.currency) as Intl.StringNumericLiteral);
}

/** Money in major units on a chart axis: compact where the locale allows. */
export function formatAxisMoney(major: number, currency: string): string {
  return new Intl.NumberFormat(undefined, { style: "currency", currency, notation: "compact", maximumFractionDigits: 1 }).format(major);
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
const number = new Intl.NumberFormat();

/** A timestamp in the browser's time zone. */
export function formatDateTime(iso: string): string {
  return dateTime.format(new Date(iso));
}

/** A whole number with the locale's grouping. */
export function formatCount(count: number): string {
  return number.format(count);
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

/** How far `iso` is from `now`: "in 14 minutes", "3 hours ago". */
export function formatRelative(iso: string, now = Date.now()): string {
  const seconds = Math.round((Date.parse(iso) - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 60) return relative.format(seconds, "second");
  if (abs < 3600) return relative.format(Math.round(seconds / 60), "minute");
  if (abs < 86_400) return relative.format(Math.round(seconds / 3600), "hour");
  return relative.format(Math.round(seconds / 86_400), "day");
}

const DAY_MS = 86_400_000;

/** Today as a UTC day, YYYY-MM-DD (the reports' and the order filter's days are UTC days). */
export function utcToday(now = Date.now()): string {
  return new Date(now).toISOString().slice(0, 10);
}

/** A UTC day `n` days after `day` (n may be negative). */
export function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);
}

/** Every UTC day from `from` to `to`, inclusive. */
export function daysBetween(from: string, to: string): string[] {
  const days: string[] = [];
  for (let day = from; day <= to && days.length <= 366; day = addDays(day, 1)) days.push(day);
  return days;
}

/** A UTC day for display, in the locale's words ("Nov 30, 2026"), without shifting it to local time. */
export function formatDay(day: string): string {
  return new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeZone: "UTC" }).format(new Date(`${day}T00:00:00Z`));
}
