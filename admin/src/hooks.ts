/**
 * Data loading for the pages: load once or keep refreshing while the tab is visible, and the
 * hash route.
 */
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { ApiProblem, isAbort } from "./api";

export interface Loaded<T> {
  data: T | undefined;
  error: ApiProblem | undefined;
  loading: boolean;
  updatedAt: Date | undefined;
  /** Loads again now. */
  reload: () => void;
}

/**
 * Runs `load` when `key` changes and then every `everyMs` while the page is visible (none when 0);
 * a hidden tab pauses and catches up when shown again. The previous figures stay on screen while
 * a refresh runs or after one fails.
 */
export function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, key: string, everyMs = 0): Loaded<T> {
  const [state, setState] = useState<{
    data: T | undefined;
    error: ApiProblem | undefined;
    loading: boolean;
    updatedAt: Date | undefined;
    key: string;
  }>({
    data: undefined,
    error: undefined,
    loading: true,
    updatedAt: undefined,
    key,
  });
  const loadRef = useRef(load);
  loadRef.current = load;
  const [generation, setGeneration] = useState(0);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);

  useEffect(() => {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let running = false;
    const run = async () => {
      if (running || controller.signal.aborted) return;
      running = true;
      clearTimeout(timer);
      setState((s) => ({ ...s, loading: true, ...(s.key !== key ? { data: undefined, error: undefined, key } : {}) }));
      try {
        const data = await loadRef.current(controller.signal);
        if (!controller.signal.aborted) setState({ data, error: undefined, loading: false, updatedAt: new Date(), key });
      } catch (error) {
        if (controller.signal.aborted || isAbort(error)) return;
        const problem =
          error instanceof ApiProblem ? error : new ApiProblem(0, "client", error instanceof Error ? error.message : String(error));
        setState((s) => ({ ...s, error: problem, loading: false }));
      } finally {
        running = false;
        if (everyMs > 0 && !controller.signal.aborted && document.visibilityState === "visible") timer = setTimeout(run, everyMs);
      }
    };
    const onVisibility = () => {
      if (document.visibilityState === "visible") void run();
      else clearTimeout(timer);
    };
    void run();
    if (everyMs > 0) document.addEventListener("visibilitychange", onVisibility);
    return () => {
      controller.abort();
      clearTimeout(timer);
      document.removeEventListener("visibilitychange", onVisibility);
    };
  }, [key, everyMs, generation]);

  const current = state.key === key ? state : { data: undefined, error: undefined, loading: true, updatedAt: undefined };
  return { data: current.data, error: current.error, loading: current.loading, updatedAt: current.updatedAt, reload };
}

/** The route: the hash without `#`, split into path segments and query. */
export interface Route {
  segments: string[];
  params: URLSearchParams;
}

function parseHash(): Route {
  const hash = location.hash.replace(/^#\/?/, "");
  const [path = "", search = ""] = hash.split("?", 2);
  return { segments: path.split("/").filter(Boolean).map(decodeURIComponent), params: new URLSearchParams(search) };
}

/** The current hash route, updated on navigation. */
export function useRoute(): Route {
  const [route, setRoute] = useState(parseHash);
  useEffect(() => {
    const onChange = () => setRoute(parseHash());
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  return route;
}

/** `#/a/b?x=1` from segments and query parameters (empty ones dropped). */
export function href(segments: string[], params: Record<string, string | undefined> = {}): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value) search.set(name, value);
  const text = search.toString();
  return `#/${segments.map(encodeURIComponent).join("/")}${text ? `?${text}` : ""}`;
}

/** Navigates to a hash route. */
export function navigate(to: string): void {
  location.hash = to.replace(/^#/, "");
}
