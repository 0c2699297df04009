// Small Node HTTP servers on 127.0.0.1 standing in for Envoy's upstream clusters. They record what
// reaches them (raw header entries in arrival order, so repeated headers stay visible) and answer as
// the scenario says.
import { createServer, type Server } from "node:http";
import type { Seen, UpstreamReply } from "./types.ts";

/** A recording upstream: `seen` grows with every request; `close()` frees the port. */
export interface RecordingUpstream {
  port: number;
  seen: Seen[];
  close(): Promise<void>;
}

/** Lowercased [name, value] entries from Node's rawHeaders (which keep repeats and order). */
export function rawPairs(raw: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i]!.toLowerCase(), raw[i + 1]!]);
  return out;
}

/**
 * Starts an upstream answering every request with `reply` (status 200, body "upstream" by default).
 * `reply.echoBody` answers with the request body; `reply.delayMs` waits first; `reply.reset` destroys
 * the connection without answering. Rejects only if it cannot listen.
 */
export async function startUpstream(reply: UpstreamReply = {}): Promise<RecordingUpstream> {
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const trailers = rawPairs(req.rawTrailers);
      seen.push({ method: req.method ?? "", path: req.url ?? "", headers: rawPairs(req.rawHeaders), body, ...(trailers.length ? { trailers } : {}) });
      if (reply.reset) {
        req.socket.destroy();
        return;
      }
      const answer = () => {
        if (res.destroyed) return;
        const headers: [string, string][] = reply.headers ?? [["content-type", "text/plain"]];
        res.writeHead(reply.status ?? 200, headers.flat());
        res.end(reply.echoBody ? body : (reply.body ?? "upstream"));
      };
      if (reply.delayMs) setTimeout(answer, reply.delayMs).unref();
      else answer();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as { port: number }).port,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
