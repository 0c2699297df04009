// The downstream client: node:http with exactly the headers the scenario names (no defaults added
// beyond host and content-length), one connection per request so requests never share state.
import { request } from "node:http";
import type { Exchange, ScenarioRequest } from "./types.ts";
import { rawPairs } from "./upstream.ts";

/** The Host header of every conformance request (Envoy turns it into :authority). */
export const AUTHORITY = "conformance.test";

/** Sends one request; resolves with status, raw headers and body, or `{ reset: true }` when the stream was reset. */
export function send(baseUrl: string, r: ScenarioRequest): Promise<Exchange> {
  return new Promise((resolve) => {
    // A fixed authority, so :authority, request.host and header sizes do not depend on the port.
    const headers: [string, string][] = [["host", AUTHORITY], ...(r.headers ?? [])];
    // With trailers the body goes chunked (no content-length), as HTTP/1.1 requires.
    if (r.body !== undefined && !r.trailers) headers.push(["content-length", String(Buffer.byteLength(r.body))]);
    const req = request(`${baseUrl}${r.path}`, { method: r.method ?? "GET", headers: headers.flat(), agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: rawPairs(res.rawHeaders), body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", () => resolve({ status: 0, headers: [], body: "", reset: true }));
    });
    req.setTimeout(15_000, () => req.destroy(new Error("timeout")));
    req.on("error", () => resolve({ status: 0, headers: [], body: "", reset: true }));
    if (r.trailers) {
      req.write(r.body ?? "");
      req.addTrailers(r.trailers);
    }
    req.end(r.trailers ? undefined : r.body);
  });
}
