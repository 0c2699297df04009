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
import { setLastResult } from "./status";

/** getCurrentTimeNanoseconds returns the host's wall clock in ns since the epoch; 0 if the host refused. */
export function getCurrentTimeNanoseconds(): u64 {
  store<u64>(retWide(), 0);
  const r = setLastResult(proxy_get_current_time_nanoseconds(retWide()));
  return r == WasmResult.Ok ? load<u64>(retWide()) : 0;
}

/** setTickPeriod arms the root context's timer (onTick every `periodMs`); 0 disables it. */
export function setTickPeriod(periodMs: u32): WasmResult {
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
  const n = String.UTF8.encode(name);
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
