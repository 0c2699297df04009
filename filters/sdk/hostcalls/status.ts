// The status of the most recent hostcall made through a wrapper that returns a value instead of a
// WasmResult (e.g. HeaderMap.get returns null for both NotFound and BadArgument; lastResult tells which).
import { isHttpLinked } from "../abi/linked";
import { WasmResult } from "../types";

let last: WasmResult = WasmResult.Ok;

/** setLastResult records a hostcall's status; wrappers call it, filters normally do not. */
export function setLastResult(result: u32): WasmResult {
  last = <WasmResult>result;
  return last;
}

/** lastResult returns the status of the most recent value-returning wrapper call (Ok after a success). */
export function lastResult(): WasmResult {
  return last;
}

/**
 * httpSetMissing tells whether the module lacks the full HTTP export set (it re-exports only
 * abi/headers.ts), after recording Unimplemented: httpCall and setTickPeriod refuse then, since
 * their answers (proxy_on_http_call_response, proxy_on_tick) could never arrive.
 */
export function httpSetMissing(): bool {
  if (isHttpLinked()) return false;
  setLastResult(WasmResult.Unimplemented);
  return true;
}
