/**
 * The sales chart: revenue per UTC day in one currency, drawn by uPlot on a canvas. The same
 * figures are in a table beside it for screen readers and keyboard users.
 */

import { html } from "htm/preact";
import type { VNode } from "preact";
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import { formatAxisMoney, formatDay, formatMoney, minorDigits } from "./format";

const DAY_S = 86_400;

function daySeconds(day: string): number {
  return Date.parse(`${day}T00:00:00Z`) / 1000;
}

function dayOf(seconds: number): string {
  return new Date(seconds * 1000).toISOString().slice(0, 10);
}

/** Revenue per day (minor units) of `currency`, one value per day of `days`. */
export function SalesChart({
  days,
  amounts,
  currency,
  label,
}: {
  days: string[];
  amounts: number[];
  currency: string;
  label: string;
}): VNode {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const scale = 10 ** minorDigits(currency);
  const data: uPlot.AlignedData = [days.map(daySeconds), amounts.map((amount) => amount / scale)];

  // A new plot when the currency or the days change; new figures for the same days only redraw.
  const shape = `${currency}|${days[0]}|${days.length}`;
  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const bars = uPlot.paths.bars?.({ size: [0.7, 48], align: 0 });
    const options: uPlot.Options = {
      width: Math.max(element.clientWidth, 200),
      height: 240,
      // Report days are UTC days: show them as such whatever the browser's time zone.
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
      scales: {
        x: { time: true, range: (_u, min, max) => [min - DAY_S / 2, max + DAY_S / 2] },
        y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.15 : 1] },
      },
      series: [
        { label: "Day (UTC)", value: (_u, v) => (v == null ? "—" : formatDay(dayOf(v))) },
        {
          label: `Revenue (${currency})`,
          stroke: "#1f4f8f",
          fill: "rgba(31, 79, 143, 0.35)",
          width: 1,
          ...(bars ? { paths: bars } : {}),
          points: { show: false },
          value: (_u, v) => (v == null ? "—" : formatMoney({ amount: Math.round(v * scale), currency })),
        },
      ],
      axes: [{ space: 60 }, { size: 72, values: (_u, splits) => splits.map((v) => formatAxisMoney(v, currency)) }],
      legend: { live: true },
      hooks: {
        // What was last drawn, for tests and debugging: "day=amount" (minor units) of every day with sales.
        draw: [
          (u) => {
            const xs = u.data[0];
            const ys = u.data[1] ?? [];
            const drawn = Array.from(xs, (x, i) => [dayOf(x), Math.round((ys[i] ?? 0) * scale)] as const).filter(
              ([, amount]) => amount > 0,
            );
            element.dataset.drawn = drawn.map(([day, amount]) => `${day}=${amount}`).join(" ");
            element.dataset.currency = currency;
          },
        ],
      },
    };
    const created = new uPlot(options, data, element);
    plot.current = created;
    const resize = new ResizeObserver(() => created.setSize({ width: Math.max(element.clientWidth, 200), height: 240 }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      created.destroy();
      plot.current = null;
    };
  }, [shape]);

  const figures = amounts.join(",");
  useEffect(() => {
    plot.current?.setData(data);
  }, [figures]);

  return html`<div class="chart" ref=${box} role="img" aria-label=${label}></div>`;
}
