// Helpers shared by the export sets (http.ts, tcp.ts, grpc.ts). Not exports themselves: an entry
// file re-exports an export set with `export *`, and everything exported there becomes a wasm export.
import { CalloutHandler, HttpContext, RootContext, TcpContext } from "../context";
import { calloutIssuer, contextExists, dropCallout, findCallout, httpContext, rootContext, setActiveContext, tcpContext } from "../dispatcher";
import { SDK_TEXTS, SdkText } from "../errors";
import { setEffectiveContext } from "../hostcalls/misc";
import { proc_exit, proxy_log } from "./imports";

// Ends the VM for a callback the host should never make: one critical line ("abort: <text>", as
// sdkAbort logs), then proc_exit and a trap. Logged from UTF-8 table bytes: a thrown Error's text and
// this file's name were ≈ 0.45 KiB of UTF-16 strings in every module.
function fail(text: SdkText): void {
  const line = SDK_TEXTS.bytes(text);
  proxy_log(5, changetype<usize>(line), <usize>line.byteLength);
  proc_exit(255);
  unreachable();
}

/** root makes `contextId` active and returns its RootContext; aborts (the VM fails) for an unknown root. */
export function root(contextId: u32): RootContext {
  setActiveContext(contextId);
  const ctx = rootContext(contextId);
  if (ctx === null) fail(SdkText.UnknownContext);
  return changetype<RootContext>(ctx);
}

/** http makes `contextId` active and returns its HttpContext; aborts (the VM fails) for any other context. */
export function http(contextId: u32): HttpContext {
  setActiveContext(contextId);
  const ctx = httpContext(contextId);
  if (ctx === null) fail(SdkText.NotHttpContext);
  return changetype<HttpContext>(ctx);
}

/** tcp makes `contextId` active and returns its TcpContext; aborts (the VM fails) for any other context. */
export function tcp(contextId: u32): TcpContext {
  setActiveContext(contextId);
  const ctx = tcpContext(contextId);
  if (ctx === null) fail(SdkText.NotTcpContext);
  return changetype<TcpContext>(ctx);
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
