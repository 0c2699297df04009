/** @jsxRuntime automatic */
// The Hub: every repository the visitor may see, with search. Data comes from the access service;
// nothing here is hard-coded (the original showed twelve made-up names).
import { useState } from "react";
import { ErrorNotice } from "../components/ErrorNotice.tsx";
import { formatBytes, formatDate } from "../format.ts";
import { Link } from "../router.tsx";
import { useSession } from "../session.tsx";
import { useLoad } from "../useLoad.ts";

/** The Hub page; reads the search from its own input, so it needs no props. */
export function HubPage() {
  const { api, me } = useSession();
  const [search, setSearch] = useState("");
  const repos = useLoad((signal) => api.repositories(search, signal), [api, search, me?.username]);

  return (
    <section aria-labelledby="hub-title">
      <h1 id="hub-title">Repositories</h1>
      <form role="search" className="search" onSubmit={(e) => e.preventDefault()}>
        <label htmlFor="repo-search">Search repositories</label>
        <input id="repo-search" type="search" value={search} placeholder="e.g. demo/hello" onChange={(e) => setSearch(e.target.value)} autoComplete="off" />
      </form>
      {repos.error ? <ErrorNotice error={repos.error} onRetry={repos.reload} /> : null}
      {repos.loading && !repos.data ? <p aria-live="polite">Loading repositories…</p> : null}
      {repos.data && repos.data.length === 0 ? <p>{search.trim() ? `No repository matches “${search.trim()}”.` : "No repositories yet. Push one with oras (scripts/oras-cli.py push, see the README), skopeo or docker to see it here."}</p> : null}
      {repos.data && repos.data.length > 0 ? (
        <ul className="repo-list" aria-live="polite">
          {repos.data.map((r) => (
            <li key={r.name} className="card repo-card">
              <div className="repo-head">
                <h2>
                  <Link to={`/repositories/${r.name}`}>{r.name}</Link>
                </h2>
                <span className={`badge badge-${r.visibility}`}>{r.visibility}</span>
              </div>
              <dl className="facts">
                <div>
                  <dt>Tags</dt>
                  <dd>{r.tagCount}</dd>
                </div>
                <div>
                  <dt>Size</dt>
                  <dd>{formatBytes(r.size)}</dd>
                </div>
                <div>
                  <dt>Last push</dt>
                  <dd>{formatDate(r.lastPushAt)}</dd>
                </div>
                <div>
                  <dt>Pulls</dt>
                  <dd>{r.pulls.toLocaleString("en-US")}</dd>
                </div>
              </dl>
            </li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}
