/**
 * The access service's client for the storage service's internal API. node:http rather than fetch
 * because blob bodies must stream both ways and a client that disconnects mid-upload must abort the
 * storage request at once (so storage rolls the chunk back).
 * @module
 */
import http from "node:http";
import type { Readable } from "node:stream";
import { HttpError } from "../http-error.ts";

/** Query parameters of a storage call; undefined values are left out. */
export type Query = Record<string, string | number | undefined>;

/** StorageClient talks to one storage service; create one per access app. */
export class StorageClient {
  private readonly base: URL;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

  /** Throws TypeError when `baseUrl` is not an absolute URL. */
  constructor(baseUrl: string) {
    this.base = new URL(baseUrl);
  }

  private url(path: string, query: Query = {}): URL {
    const u = new URL(path, this.base);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) u.searchParams.set(k, String(v));
    return u;
  }

  /**
   * request sends one call and resolves to the raw response (any status). `body` may be a Buffer or
   * a stream (piped; if it errors, the storage request is destroyed). Rejects with HttpError 503
   * UNAVAILABLE when storage cannot be reached.
   */
  request(method: string, path: string, query: Query, options: { body?: Buffer | Readable; headers?: Record<string, string> } = {}): Promise<http.IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = http.request(this.url(path, query), { method, agent: this.agent, headers: options.headers ?? {} }, resolve);
      let clientGone = false;
      req.on("error", (err) => {
        // The caller's own client leaving is not a storage fault (and not worth a 5xx log line).
        if (clientGone) reject(new HttpError(400, "BLOB_UPLOAD_INVALID", "the client aborted the request body"));
        else reject(new HttpError(503, "UNAVAILABLE", `storage service unavailable: ${err.message}`));
      });
      const body = options.body;
      if (body === undefined) req.end();
      else if (Buffer.isBuffer(body)) req.end(body);
      else {
        const abort = () => {
          clientGone = true;
          req.destroy(new Error("client aborted"));
        };
        body.on("error", abort);
        // IncomingMessage 'close' before 'end' means the client went away mid-body.
        body.on("close", () => body.readableEnded || abort());
        body.pipe(req);
      }
    });
  }

  /**
   * json sends a call with an optional JSON body and resolves to the parsed 2xx answer. A storage
   * error becomes the HttpError it describes (same status, code, message, detail).
   */
  async json<T>(method: string, path: string, query: Query = {}, body?: unknown): Promise<T> {
    const res = await this.request(method, path, query, body === undefined ? {} : { body: Buffer.from(JSON.stringify(body)), headers: { "content-type": "application/json" } });
    return (await readJson(res)) as T;
  }

  /** close drops idle keep-alive sockets; call when the access app shuts down. */
  close(): void {
    this.agent.destroy();
  }
}

/**
 * readJson reads a storage response: resolves the parsed body of a 2xx (undefined when empty),
 * rejects with the HttpError of an error body, or 502 UNKNOWN for anything unreadable.
 */
export async function readJson(res: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  const status = res.statusCode ?? 502;
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    throw new HttpError(502, "UNKNOWN", "storage service sent an unreadable answer");
  }
  if (status >= 200 && status < 300) return parsed;
  throw storageError(status, parsed);
}

/** storageError converts a storage error body to an HttpError; never throws. */
export function storageError(status: number, body: unknown): HttpError {
  const e = (body as { error?: { code?: string; message?: string; detail?: unknown } } | undefined)?.error;
  if (!e?.code) return new HttpError(502, "UNKNOWN", `storage service answered ${status}`);
  return new HttpError(status >= 500 ? 502 : status, e.code, e.message ?? e.code, e.detail);
}
