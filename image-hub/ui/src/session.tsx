/** @jsxRuntime automatic */
// The logged-in account, shared by every page. What the UI shows about the user (name, plan, quota)
// always comes from GET /api/me, so a plan change made elsewhere shows up on the next refresh.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { ApiError, type Api, type Me } from "./api.ts";

/** What pages read from the session context. */
export interface Session {
  api: Api;
  /** The account, or null when logged out (or not loaded yet: see `loading`). */
  me: Me | null;
  loading: boolean;
  /** Why /api/me failed, other than "not logged in". */
  error: ApiError | null;
  /** Re-reads /api/me; resolves even on failure (the failure lands in `error`). */
  refresh(): Promise<void>;
  logOut(): void;
}

const SessionContext = createContext<Session | null>(null);

/** Provides the session to its children; loads /api/me once at mount when a session token exists. */
export function SessionProvider({ api, children }: { api: Api; children: ReactNode }) {
  const [me, setMe] = useState<Me | null>(null);
  const [loading, setLoading] = useState(api.isLoggedIn());
  const [error, setError] = useState<ApiError | null>(null);

  const refresh = useCallback(async () => {
    if (!api.isLoggedIn()) {
      setMe(null);
      setLoading(false);
      return;
    }
    setLoading(true);
    try {
      setMe(await api.me());
      setError(null);
    } catch (err) {
      setMe(null);
      const apiErr = err instanceof ApiError ? err : new ApiError({ kind: "network", status: 0, code: "UNKNOWN", message: String(err) });
      setError(apiErr.status === 401 ? null : apiErr);
    } finally {
      setLoading(false);
    }
  }, [api]);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  const logOut = useCallback(() => {
    api.logOut();
    setMe(null);
    setError(null);
  }, [api]);

  const value = useMemo(() => ({ api, me, loading, error, refresh, logOut }), [api, me, loading, error, refresh, logOut]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

/** The session; may only be called below a SessionProvider, otherwise it throws. */
export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error("useSession must be used inside <SessionProvider>");
  return s;
}
