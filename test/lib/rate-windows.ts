/**
 * The rate limiters count in wall-clock-aligned windows of a minute. `inOneWindow` runs `burst`
 * (which only records) and, when a window boundary fell inside it, runs it again, starting at the
 * next window when what is left of this one is short, so the assertions see one window. `burst`
 * must act as a new client on every call (a fresh IP, cart or shopper): the requests an earlier
 * run sent after the boundary count in the new window.
 */
export async function inOneWindow<T>(burst: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const started = Date.now();
    const result = await burst();
    if (Math.floor(Date.now() / 60_000) === Math.floor(started / 60_000)) return result;
    if (attempt === 3) throw new Error("three bursts in a row crossed a minute boundary");
    const left = 60_000 - (Date.now() % 60_000);
    if (left < 2 * (Date.now() - started)) await new Promise((resolve) => setTimeout(resolve, left + 100));
  }
}
