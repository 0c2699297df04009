/** @jsxRuntime automatic */
// One repository: its tags with digests and sizes, commands to pull it (first with the oras that
// `npm install` puts into .venv-envoy, as image-hub/README.md "oras" documents; skopeo and docker as
// alternatives), and a Pull button that performs a real manifest GET through /v2/ and reports the quota it left.
import { useState } from "react";
import { ApiError, type PullResult } from "../api.ts";
import { CopyField } from "../components/CopyField.tsx";
import { ErrorNotice } from "../components/ErrorNotice.tsx";
import { QuotaText } from "../components/QuotaText.tsx";
import { formatBytes, formatDate, shortDigest } from "../format.ts";
import { useSession } from "../session.tsx";
import { asApiError, useLoad } from "../useLoad.ts";

/** Props: the repository name taken from the path (may contain "/"). */
export interface RepositoryPageProps {
  name: string;
  /** Registry host shown in the pull commands; defaults to the page's own host. */
  host?: string;
}

/** The repository page. */
export function RepositoryPage({ name, host = typeof window === "undefined" ? "127.0.0.1:8080" : window.location.host }: RepositoryPageProps) {
  const { api, me, refresh } = useSession();
  const repo = useLoad(() => api.repository(name), [api, name, me?.username]);
  const [tag, setTag] = useState<string | null>(null);
  const [pulling, setPulling] = useState(false);
  const [result, setResult] = useState<PullResult | null>(null);
  const [pullError, setPullError] = useState<ApiError | null>(null);

  if (repo.error) return <ErrorNotice error={repo.error} onRetry={repo.reload} />;
  if (!repo.data) return <p aria-live="polite">Loading {name}…</p>;
  const r = repo.data;
  const selected = tag ?? r.tags[0]?.name ?? "";
  const user = me?.username ?? "USERNAME";

  const pull = async () => {
    setPulling(true);
    setResult(null);
    setPullError(null);
    try {
      setResult(await api.pull(r.name, selected));
    } catch (err) {
      setPullError(asApiError(err));
    } finally {
      setPulling(false);
      // The pull changed the account's quota and the repository's pull count.
      void refresh();
      repo.reload();
    }
  };

  return (
    <section aria-labelledby="repo-title">
      <div className="repo-head">
        <h1 id="repo-title">{r.name}</h1>
        <span className={`badge badge-${r.visibility}`}>{r.visibility}</span>
      </div>
      <p className="muted">
        Owner {r.owner} · {r.pulls.toLocaleString("en-US")} pulls · last push {formatDate(r.lastPushAt)}
      </p>

      <h2>Tags</h2>
      {r.tags.length === 0 ? (
        <p>This repository has no tags yet.</p>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Tag</th>
                <th scope="col">Digest</th>
                <th scope="col">Manifest size</th>
                <th scope="col">Pushed</th>
              </tr>
            </thead>
            <tbody>
              {r.tags.map((t) => (
                <tr key={t.name}>
                  <th scope="row">{t.name}</th>
                  <td>
                    <code title={t.digest}>{shortDigest(t.digest)}</code>
                  </td>
                  <td>{formatBytes(t.size)}</td>
                  <td>{formatDate(t.pushedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <h2>Pull</h2>
      {r.tags.length === 0 ? (
        <p>There is nothing to pull until an image is pushed with a tag.</p>
      ) : (
        <div className="pull-box card">
          {r.tags.length > 1 ? (
            <p>
              <label htmlFor="pull-tag">Tag</label>{" "}
              <select id="pull-tag" value={selected} onChange={(e) => setTag(e.target.value)}>
                {r.tags.map((t) => (
                  <option key={t.name} value={t.name}>
                    {t.name}
                  </option>
                ))}
              </select>
            </p>
          ) : null}
          <CopyField label="With oras (installed by npm install; run in the project folder)" text={`.venv-envoy/bin/python scripts/oras-cli.py pull --user ${user} --password PASSWORD ${host}/${r.name}:${selected} --out ${r.name.replace(/\//g, "-")}`} />
          <CopyField label="With skopeo" text={`skopeo copy --src-tls-verify=false --src-creds ${user}:PASSWORD docker://${host}/${r.name}:${selected} oci:${r.name.replace(/\//g, "-")}:${selected}`} />
          <CopyField label="With docker (after docker login)" text={`docker pull ${host}/${r.name}:${selected}`} />
          <p className="muted">The Pull button fetches the manifest of {r.name}:{selected} through the registry, counting as one pull.</p>
          <button type="button" className="primary" onClick={pull} disabled={pulling} aria-describedby="pull-status">
            {pulling ? "Pulling…" : `Pull ${r.name}:${selected}`}
          </button>
          <div id="pull-status" aria-live="polite">
            {result ? (
              <p className="notice notice-ok" role="status">
                <strong>Pulled {result.repository}:{result.reference}.</strong> Manifest <code title={result.digest}>{shortDigest(result.digest)}</code>, {formatBytes(result.bytes)}. <QuotaText quota={result.quota} />
              </p>
            ) : null}
          </div>
          {pullError ? <ErrorNotice error={pullError} /> : null}
        </div>
      )}
    </section>
  );
}
