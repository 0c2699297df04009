// Helpers shared by the export sets (http.ts, tcp.ts, grpc.ts). Not exports themselves: an entry
// file re-exports an export set with `export *`, and everything exported there becomes a wasm export.
import { CalloutHandler, HttpContext, RootContext, TcpContext } from "../context";
import { calloutIssuer, contextExists, dropCallout, findCallout, httpContext, rootContext, setActiveContext, tcpContext } from "../dispatcher";
import { E_NOT_HTTP_CONTEXT, E_NOT_TCP_CONTEXT, E_UNKNOWN_CONTEXT } from "../errors";
import { setEffectiveContext } from "../hostcalls/misc";

/** root makes `contextId` active and returns its RootContext; aborts (the VM fails) for an unknown root. */
export function root(contextId: u32): RootContext {
  setActiveContext(contextId);
  const ctx = rootContext(contextId);
  if (ctx === null) throw new Error(E_UNKNOWN_CONTEXT);
  return ctx;
}

/** http makes `contextId` active and returns its HttpContext; aborts (the VM fails) for any other context. */
export function http(contextId: u32): HttpContext {
  setActiveContext(contextId);
  const ctx = httpContext(contextId);
  if (ctx === null) throw new Error(E_NOT_HTTP_CONTEXT);
  return ctx;
}

/** tcp makes `contextId` active and returns its TcpContext; aborts (the VM fails) for any other context. */
export function tcp(contextId: u32): TcpContext {
  setActiveContext(contextId);
  const ctx = tcpContext(contextId);
  if (ctx === null) throw new Error(E_NOT_TCP_CONTEXT);
  return ctx;
}

// Callout answers arrive on the root. The handler runs with the issuing stream as the effective context;
// if that stream is already gone the answer is dropped (the Go SDK does the same).
/** enterCallout makes the issuing stream active for a callout answer; false when that stream is gone. */
function enterCallout(rootContextId: u32, issuer: u32): bool {
  setActiveContext(rootContextId);
  if (issuer == 0 || issuer == rootContextId) return true;
  if (!contextExists(issuer)) return false;
  setEffectiveContext(issuer);
  setActiveContext(issuer);
  return true;
}

/**
 * callout returns the handler of callout `token` with its issuing stream made active, forgetting the
 * callout first when `last` (the answer that ends it); null when the token is unknown or the stream is gone.
 */
export function callout(rootContextId: u32, token: u32, last: bool): CalloutHandler | null {
  const handler = findCallout(token);
  if (handler === null) return null;
  const issuer = calloutIssuer();
  if (last) dropCallout(token);
  return enterCallout(rootContextId, issuer) ? handler : null;
}
