/**
 * Test plumbing for the policy filters against real Envoy: a loopback upstream that records every
 * request it receives, and a small HTTP client that never reuses connections.
 * @module
 */
import { createServer, request, type IncomingHttpHeaders, type Server } from "node:http";

/** One request as the upstream saw it. */
export interface SeenRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  bodyBytes: number;
}

/** A recording upstream on 127.0.0.1:<port>; answers 200 with a small JSON body. */
export interface RecordingUpstream {
  port: number;
  seen: SeenRequest[];
  close(): Promise<void>;
}

/** startUpstream listens on a free loopback port; rejects if it cannot listen. */
export async function startUpstream(): Promise<RecordingUpstream> {
  const seen: SeenRequest[] = [];
  // Envoy forwards up to 60 KiB of headers; node's default limit (16 KiB) would answer 431 itself.
  const server: Server = createServer({ maxHeaderSize: 64 * 1024 }, (req, res) => {
    let bodyBytes = 0;
    req.on("data", (chunk: Buffer) => (bodyBytes += chunk.length));
    req.on("end", () => {
      seen.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers, bodyBytes });
      res.writeHead(200, { "content-type": "application/json", "x-upstream": "recorder" }).end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A response as the client saw it. */
export interface ClientResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** send makes one request with a fresh connection, sending `path` byte for byte; rejects on network errors or after 15 s. */
export function send(
  url: string,
  options: { method?: string; path: string; headers?: Record<string, string>; body?: Buffer | string },
): Promise<ClientResponse> {
  return new Promise((resolve, reject) => {
    // host/port/path given separately: a URL string would have its dot segments resolved by the client.
    const { hostname, port } = new URL(url);
    const req = request({ hostname, port, path: options.path, method: options.method ?? "GET", headers: options.headers ?? {}, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.setTimeout(15_000, () => req.destroy(new Error(`request ${options.path} timed out`)));
    req.on("error", reject);
    req.end(options.body);
  });
}
