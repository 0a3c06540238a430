/**
 * Records what timer callbacks throw in this isolate (the Worker under test and its objects run
 * here): such a throw is an uncaught exception, which the runtime only logs. Each throw is
 * recorded and thrown on, so nothing changes but that it is seen. `stop()` puts setTimeout back.
 */
export function watchTimerErrors(): { thrown: string[]; stop: () => void } {
  const original = globalThis.setTimeout;
  const thrown: string[] = [];
  const watched = (handler: unknown, ms?: number, ...args: unknown[]) => {
    if (typeof handler !== "function") return original(handler as () => void, ms);
    return original(() => {
      try {
        handler(...args);
      } catch (error) {
        thrown.push(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
        throw error;
      }
    }, ms);
  };
  globalThis.setTimeout = watched as typeof setTimeout;
  return {
    thrown,
    stop: () => {
      globalThis.setTimeout = original;
    },
  };
}
