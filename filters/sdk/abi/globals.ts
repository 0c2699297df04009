// Replacements for the AssemblyScript runtime imports Envoy does not provide (env.abort, env.trace,
// env.seed, env.Date.now, env.console.*). asconfig.json wires them with "use", e.g. "abort=sdkAbort";
// the names must be global.
import { log as hostLog, logEnabled } from "../hostcalls/log";
import { putDecimal } from "../decimal";
import { E_ABORT_NO_FILE, E_ABORT_NO_MESSAGE } from "../errors";
import { LogLevel } from "../types";
import { proxy_get_current_time_nanoseconds, proxy_log, proc_exit, random_get } from "./imports";
import { encodeUtf8 } from "../utf8";
// The allocator that asconfig "use" puts under the collector in place of TLSF (__alloc=sdkAlloc, …).
import "./alloc";

const CRITICAL: u32 = 5;
let aborting = false;

// The abort line is assembled as UTF-8 bytes: string concatenation and number formatting would link
// String#concat, the radix formatter and its error texts into every module for a path taken once.
function putAscii(at: usize, text: string): usize {
  for (let i = 0; i < text.length; i++) store<u8>(at + <usize>i, <u8>text.charCodeAt(i));
  return at + <usize>text.length;
}

function putBytes(at: usize, bytes: ArrayBuffer): usize {
  memory.copy(at, changetype<usize>(bytes), <usize>bytes.byteLength);
  return at + <usize>bytes.byteLength;
}

/**
 * sdkAbort replaces AssemblyScript's abort: one critical log line "abort: <message> at <file>(<line>:<col>)",
 * then wasi proc_exit(255). Envoy's proc_exit returns, so the `unreachable` AS emits after every abort call
 * traps and marks the VM failed.
 */
// @ts-ignore: decorator
@global export function sdkAbort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  // An abort raised while aborting (e.g. shadow-stack overflow, where building the message overflows
  // again) must not recurse: exit at once and let the trap that follows fail the VM.
  if (aborting) {
    proc_exit(255);
    return;
  }
  aborting = true;
  const msg = encodeUtf8(message === null ? E_ABORT_NO_MESSAGE : message);
  const file = encodeUtf8(fileName === null ? E_ABORT_NO_FILE : fileName);
  // "abort: " + " at " + "(" + 10 digits + ":" + 10 digits + ")"
  const start = heap.alloc(<usize>(msg.byteLength + file.byteLength + 34));
  let at = putAscii(start, "abort: ");
  at = putBytes(at, msg);
  at = putAscii(at, " at ");
  at = putBytes(at, file);
  store<u8>(at, 0x28); // (
  at = putDecimal(at + 1, line);
  store<u8>(at, 0x3a); // :
  at = putDecimal(at + 1, column);
  store<u8>(at, 0x29); // )
  proxy_log(CRITICAL, start, at + 1 - start);
  proc_exit(255);
}

/** sdkTrace replaces AssemblyScript's trace(): the message and up to five numbers, logged at trace level (gated like log()). */
// @ts-ignore: decorator
@global export function sdkTrace(message: string, n: i32 = 0, a0: f64 = 0, a1: f64 = 0, a2: f64 = 0, a3: f64 = 0, a4: f64 = 0): void {
  if (!logEnabled(LogLevel.Trace)) return;
  let text = "trace: " + message;
  if (n > 0) text += " " + a0.toString();
  if (n > 1) text += ", " + a1.toString();
  if (n > 2) text += ", " + a2.toString();
  if (n > 3) text += ", " + a3.toString();
  if (n > 4) text += ", " + a4.toString();
  hostLog(LogLevel.Trace, text);
}

/** sdkSeed replaces AssemblyScript's seed() (used by Math.random) with 8 bytes from wasi random_get. */
// @ts-ignore: decorator
@global export function sdkSeed(): f64 {
  const buf = memory.data(8, 8);
  random_get(buf, 8);
  // A seed of 0 would make Math.random's xorshift state degenerate.
  const bits = load<u64>(buf) | 1;
  return reinterpret<f64>((bits >> 12) | 0x3ff0000000000000);
}

/** SdkDate replaces Date so Date.now() reads proxy_get_current_time_nanoseconds (ms since the epoch; 0 if refused). */
// @ts-ignore: decorator
@global export class SdkDate extends Date {
  /** now returns the host's wall clock in milliseconds. */
  static now(): i64 {
    const out = memory.data(8, 8);
    store<u64>(out, 0);
    proxy_get_current_time_nanoseconds(out);
    return <i64>(load<u64>(out) / 1_000_000);
  }
}

/** sdkConsole replaces console: each method logs through proxy_log at the matching level (gated like log()). */
// @ts-ignore: decorator
@global export namespace sdkConsole {
  // @ts-ignore: decorator
  @lazy const timers = new Map<string, i64>();

  /** assert logs "Assertion failed: <message>" at error level when `condition` is falsy. */
  export function assert<T>(condition: T, message: string = ""): void {
    if (!condition) hostLog(LogLevel.Error, "Assertion failed: " + message);
  }
  /** log logs at info level. */
  export function log(message: string = ""): void {
    hostLog(LogLevel.Info, message);
  }
  /** debug logs at debug level. */
  export function debug(message: string = ""): void {
    hostLog(LogLevel.Debug, message);
  }
  /** info logs at info level. */
  export function info(message: string = ""): void {
    hostLog(LogLevel.Info, message);
  }
  /** warn logs at warn level. */
  export function warn(message: string = ""): void {
    hostLog(LogLevel.Warn, message);
  }
  /** error logs at error level. */
  export function error(message: string = ""): void {
    hostLog(LogLevel.Error, message);
  }
  /** time starts the timer `label`. */
  export function time(label: string = "default"): void {
    timers.set(label, SdkDate.now());
  }
  /** timeLog logs "<label>: <ms>ms" at info level for a started timer. */
  export function timeLog(label: string = "default"): void {
    if (timers.has(label)) hostLog(LogLevel.Info, label + ": " + (SdkDate.now() - timers.get(label)).toString() + "ms");
  }
  /** timeEnd logs like timeLog and stops the timer. */
  export function timeEnd(label: string = "default"): void {
    timeLog(label);
    if (timers.has(label)) timers.delete(label);
  }
}
