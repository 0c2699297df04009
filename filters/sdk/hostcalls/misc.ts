// Time, timers, effective context, deferred root completion and foreign functions.
import {
  proxy_call_foreign_function,
  proxy_done,
  proxy_get_current_time_nanoseconds,
  proxy_set_effective_context,
  proxy_set_tick_period_milliseconds,
} from "../abi/imports";
import { clearRet, retPtr, retWide, takeResult } from "../abi/malloc";
import { WasmResult } from "../types";
import { callbackGeneration } from "./callback";
import { httpSetMissing, setLastResult } from "./status";
import { encodeUtf8 } from "../utf8";

/** getCurrentTimeNanoseconds returns the host's wall clock in ns since the epoch; 0 if the host refused. */
export function getCurrentTimeNanoseconds(): u64 {
  store<u64>(retWide(), 0);
  const r = setLastResult(proxy_get_current_time_nanoseconds(retWide()));
  return r == WasmResult.Ok ? load<u64>(retWide()) : 0;
}

let clockGeneration: u32 = 0;
let clockNanoseconds: u64 = 0;

/**
 * callbackTimeNanoseconds is getCurrentTimeNanoseconds read at most once per callback: every caller
 * in the same callback (e.g. the filters of a composition) gets the same instant without a hostcall
 * of its own. Use it for "now" in a decision (expiry, a token bucket); use getCurrentTimeNanoseconds
 * to measure time inside a callback. 0 if the host refused.
 */
export function callbackTimeNanoseconds(): u64 {
  const generation = callbackGeneration();
  if (clockGeneration != generation || clockNanoseconds == 0) {
    clockNanoseconds = getCurrentTimeNanoseconds();
    clockGeneration = generation;
  }
  return clockNanoseconds;
}

/**
 * setTickPeriod arms the root context's timer (onTick every `periodMs`); 0 disables it. Unimplemented
 * in a module that re-exports only abi/headers, which has no proxy_on_tick.
 */
export function setTickPeriod(periodMs: u32): WasmResult {
  if (httpSetMissing()) return WasmResult.Unimplemented;
  return <WasmResult>proxy_set_tick_period_milliseconds(periodMs);
}

/** setEffectiveContext makes later hostcalls in this callback act on `contextId`; BadArgument if unknown. */
export function setEffectiveContext(contextId: u32): WasmResult {
  return <WasmResult>proxy_set_effective_context(contextId);
}

/** done tells the host a root context that returned false from onDone has finished; NotFound if it was not pending. */
export function done(): WasmResult {
  return <WasmResult>proxy_done();
}

/** callForeignFunction calls a host extension (e.g. Envoy's "compress"); returns its result bytes, or null (NotFound for an unknown name). */
export function callForeignFunction(name: string, args: ArrayBuffer): ArrayBuffer | null {
  const n = encodeUtf8(name);
  clearRet();
  const r = setLastResult(
    proxy_call_foreign_function(
      changetype<usize>(n),
      <usize>n.byteLength,
      changetype<usize>(args),
      <usize>args.byteLength,
      retPtr(),
      retPtr() + 4,
    ),
  );
  if (r != WasmResult.Ok) return null;
  return takeResult();
}
