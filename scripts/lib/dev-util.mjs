// Output and timing helpers of `npm run dev` (scripts/dev.mjs).
export const log = (message) => console.log(`[dev] ${message}`);
export const warn = (message) => console.error(`[dev] ${message}`);
export const ms = (since) => `${Math.round(performance.now() - since)} ms`;

export const sleep = (milliseconds) => new Promise((resolve) => setTimeout(resolve, milliseconds));

export function withTimeout(promise, milliseconds, message) {
  return Promise.race([
    promise,
    sleep(milliseconds).then(() => {
      throw new Error(message);
    }),
  ]);
}
