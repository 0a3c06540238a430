// What a bench run runs (the cells of a round) and what counts as a correctness problem of a run
// (bench/run.mjs).
import { ENGINES } from "./engines.mjs";
import { PHASES } from "./phases.mjs";

/** Correctness problems of a run (speed is never asserted). */
export function problemsOf(run, strict) {
  const name = `${run.phase}/${run.engine}${run.rtt_ms ? ` @${run.rtt_ms} ms` : ""} round ${run.round}`;
  if (run.failed) return [`${name}: failed: ${run.failed}`];
  const problems = [];
  if (run.oversell !== 0) problems.push(`${name}: oversold ${run.oversell} units`);
  if (run.conserved === false)
    problems.push(
      `${name}: stock not conserved (stock ${run.stock}, granted ${run.granted ?? run.completed}, final ${JSON.stringify(run.final)})`,
    );
  if (run.stock_agrees === false && run.errors === 0)
    problems.push(`${name}: the stock read back (${JSON.stringify(run.final)}) disagrees with the ${run.granted} grants the client saw`);
  if (strict && run.errors > 0) problems.push(`${name}: ${run.errors} errors ${JSON.stringify(run.error_kinds)}`);
  if (strict && run.sold_out === false) problems.push(`${name}: ${run.granted} granted of ${run.stock} units with ${run.ops} attempts`);
  // The simulated round trip must show, in every mode: every durable-object or Postgres operation
  // of phase (a) crosses it as many times as its engine's fewest round trips (ENGINES[...].roundTrips).
  const floor = run.rtt_ms * (ENGINES[run.engine]?.roundTrips ?? 0);
  if (run.rtt_ms > 0 && run.phase === "reserve" && run.p50_ms !== null && run.p50_ms < floor) {
    problems.push(`${name}: p50 ${run.p50_ms} ms is under the ${floor} ms of its simulated round trips`);
  }
  return problems;
}

/** The (RTT, phase, engine) cells of a run, in the order they run within a round. */
export function plan(opts) {
  const cells = [];
  for (const rtt of opts.rtts) {
    for (const phase of opts.phases) {
      const spec = PHASES[phase];
      if (rtt > 0 && !spec.swept) continue;
      // The no-op and the bare design have no simulated round trip: they run at RTT 0 only.
      const engines = spec.engines.filter((e) => opts.engines.includes(e) && !(rtt > 0 && ENGINES[e].atZeroRttOnly));
      if (engines.length > 0) cells.push({ rtt, phase, engines });
    }
  }
  return cells;
}
