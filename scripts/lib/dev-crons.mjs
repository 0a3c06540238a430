// The cron timer of `npm run dev` (scripts/dev.mjs).
import { cleanups, stopping } from "./dev-lifecycle.mjs";
import { warn } from "./dev-util.mjs";

/**
 * Fires the Worker's crons as Cloudflare would (wrangler.toml [triggers]): every minute the
 * catalog publish outbox, every 15 minutes (and once now) the inventory levels snapshot.
 */
export function runCrons(port) {
  const fire = (cron) =>
    fetch(`http://127.0.0.1:${port}/__scheduled?cron=${encodeURIComponent(cron)}`).catch((error) => {
      if (!stopping) warn(`cron ${cron}: ${error?.message ?? error}`);
    });
  let minute = 0;
  void fire("*/15 * * * *");
  const timer = setInterval(() => {
    minute++;
    void fire("* * * * *");
    if (minute % 15 === 0) void fire("*/15 * * * *");
  }, 60_000);
  timer.unref();
  cleanups.push(async () => clearInterval(timer));
}
