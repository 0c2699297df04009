/**
 * The request error both services pass to `next(err)`: an HTTP status plus a registry error code,
 * so one error middleware can render it in whichever format the route family uses.
 * @module
 */

/** HttpError is a refused request; `code` is a registry error code such as `BLOB_UNKNOWN`. */
export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  readonly detail: unknown;
  readonly headers: Record<string, string>;

  /** Creates the error; never throws. `headers` are added to the error response (e.g. Retry-After). */
  constructor(status: number, code: string, message: string, detail?: unknown, headers: Record<string, string> = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.headers = headers;
  }
}

/**
 * toHttpError maps anything thrown by a handler to an HttpError: body-parser errors become
 * 400 BAD_REQUEST / 413 SIZE_INVALID, anything unknown becomes 500 UNKNOWN. Never throws.
 */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  const e = err as { status?: number; type?: string; message?: string };
  if (e?.type === "entity.parse.failed") return new HttpError(400, "BAD_REQUEST", "request body is not valid JSON");
  if (e?.type === "entity.too.large") return new HttpError(413, "SIZE_INVALID", "request body too large");
  if (typeof e?.status === "number" && e.status >= 400 && e.status < 500) return new HttpError(e.status, "BAD_REQUEST", e.message ?? "bad request");
  return new HttpError(500, "UNKNOWN", "internal error");
}
