// Loading state for one API call, so every page shows loading, data and errors the same way.
import { useCallback, useEffect, useState } from "react";
import { ApiError } from "./api.ts";

/** State of a load: exactly one of data / error is set once loading is over. */
export interface LoadState<T> {
  data: T | null;
  error: ApiError | null;
  loading: boolean;
  reload(): void;
}

/** Non-ApiError throws (bugs) are still shown, as a plain error rather than being swallowed. */
export function asApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  return new ApiError({ kind: "invalid-response", status: 0, code: "CLIENT_ERROR", message: err instanceof Error ? err.message : String(err) });
}

/**
 * Runs `load` at mount and whenever `deps` change; a stale answer (from before a change) is dropped.
 * React hook: call only from a component.
 */
export function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[]): LoadState<T> {
  const [state, setState] = useState<{ data: T | null; error: ApiError | null; loading: boolean }>({ data: null, error: null, loading: true });
  const [generation, setGeneration] = useState(0);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);

  useEffect(() => {
    const controller = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    load(controller.signal).then(
      (data) => !controller.signal.aborted && setState({ data, error: null, loading: false }),
      (err) => !controller.signal.aborted && setState({ data: null, error: asApiError(err), loading: false }),
    );
    return () => controller.abort();
    // `load` is a fresh closure every render; the caller names what it really depends on in `deps`.
  }, [...deps, generation]);

  return { ...state, reload };
}
