// The status of the most recent hostcall made through a wrapper that returns a value instead of a
// WasmResult (e.g. HeaderMap.get returns null for both NotFound and BadArgument; lastResult tells which).
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
