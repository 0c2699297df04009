/**
 * The tiny static server for the UI build (build/ui) behind Envoy's `/` route: files as they are,
 * every other GET falls back to index.html so client-side routes survive a reload. Also serves the
 * latest benchmark results at `/bench/latest.json` (bench/results/), which the UI's speed page reads.
 * @module
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import express from "express";

const root = fileURLToPath(new URL("..", import.meta.url));

/** Default location of the UI build. */
export const UI_BUILD_DIR = join(root, "build/ui");
/** Default location of benchmark results. */
export const BENCH_RESULTS_DIR = join(root, "bench/results");

const MISSING_PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>Image Hub</title></head>
<body><h1>Image Hub</h1><p>The UI has not been built: <code>build/ui</code> is missing.
Run <code>npm run build</code> (or <code>npm start</code>, which builds first).</p>
<p>The registry (<code>/v2/</code>) and the accounts API (<code>/api/</code>) work without it.</p></body></html>`;

/**
 * createUiApp returns the Express app for the UI; callable any time. When `uiDir` has no
 * index.html, every page is a plain page saying the UI is not built (checked per request, so a
 * build made while running is picked up).
 */
export function createUiApp(uiDir: string = UI_BUILD_DIR, benchDir: string = BENCH_RESULTS_DIR): express.Express {
  const app = express();
  app.disable("x-powered-by");
  app.use("/bench", express.static(benchDir, { index: false, fallthrough: false }));
  app.use(express.static(uiDir, { index: "index.html" }));
  app.use((req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") return void res.status(405).type("text/plain").send("method not allowed\n");
    const index = join(uiDir, "index.html");
    if (!existsSync(index)) return void res.status(200).type("html").send(MISSING_PAGE);
    res.sendFile(index);
  });
  // Only /bench gets here (its static handler does not fall through): a missing results file is an
  // ordinary 404 for the speed page, not a stack trace in the log.
  app.use((err: { status?: number }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    const status = err.status === 404 ? 404 : 500;
    res.status(status).json({ error: { code: status === 404 ? "NOT_FOUND" : "INTERNAL", message: status === 404 ? "no benchmark results yet" : "could not read benchmark results" } });
  });
  return app;
}
