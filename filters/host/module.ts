/**
 * Load-time checks cpp-host makes before and while instantiating a module (proxy-wasm-host.md §1,
 * §2.2 "Missing imports"): ABI marker (first in export order), imports registered for that ABI
 * version with exactly matching types, exact export signatures, and an allocator export.
 */
import { type FailState } from "./abi.ts";
import { type AbiVersion, abiMarkers, exportType, importType } from "./abi-table.ts";
import { type ModuleInfo, WasmBinaryError, formatFuncType, readModuleInfo, sameFuncType } from "./binary.ts";

/**
 * Thrown when Envoy would refuse the module or the plugin configuration. `failState` is the state
 * the VM ends in; `stage` is the line cpp-host logs after the specific message when creating the
 * VM gives up ("Failed to load Wasm code" or "Failed to initialize Wasm code"), if any.
 */
export class PluginLoadError extends Error {
  constructor(
    readonly failState: FailState,
    message: string,
    readonly stage?: string,
  ) {
    super(message);
  }
}

/**
 * A module Envoy 1.40 refuses while creating the VM. cpp-host's fail() overwrites the state each
 * time, and createWasm() ends every refusal with fail(UnableToInitializeCode, stage), so that is
 * the state Envoy's VM is left in whatever the first reason (missing import: UnableToInitializeCode,
 * missing malloc: MissingFunction, unknown ABI: UnableToInitializeCode).
 */
function refused(message: string, stage: "Failed to load Wasm code" | "Failed to initialize Wasm code"): PluginLoadError {
  return new PluginLoadError("unableToInitializeCode", message, stage);
}

/** A validated module, ready to instantiate once per worker. */
export interface PreparedModule {
  module: WebAssembly.Module;
  info: ModuleInfo;
  abiVersion: AbiVersion;
  /** Names of exports the host will call (looked up with the right type). */
  callable: Set<string>;
  /** Pages of an imported memory, when the module imports one. */
  importedMemoryPages: number | undefined;
}

/**
 * prepareModule compiles and validates a module the way cpp-host does. Throws PluginLoadError with
 * Envoy's message (e.g. `Bad function signature for: malloc`) when Envoy would refuse it.
 */
export function prepareModule(wasm: Uint8Array | WebAssembly.Module, bytes?: Uint8Array): PreparedModule {
  const binary = wasm instanceof WebAssembly.Module ? bytes : wasm;
  if (!binary) throw new PluginLoadError("unableToCreateVm", "a precompiled WebAssembly.Module needs its bytes for validation");
  let info: ModuleInfo;
  let module: WebAssembly.Module;
  try {
    info = readModuleInfo(binary);
    module = wasm instanceof WebAssembly.Module ? wasm : new WebAssembly.Module(binary as Uint8Array<ArrayBuffer>);
  } catch (err) {
    const reason = err instanceof WasmBinaryError || err instanceof Error ? err.message : String(err);
    throw refused(`Failed to load Wasm code: ${reason}`, "Failed to load Wasm code");
  }
  const marker = info.exports.find((e) => e.kind === "func" && abiMarkers[e.name] !== undefined);
  if (!marker) throw refused("Missing or unknown Proxy-Wasm ABI version", "Failed to load Wasm code");
  const abiVersion = abiMarkers[marker.name];

  let importedMemoryPages: number | undefined;
  for (const imp of info.imports) {
    if (imp.kind === "memory") {
      importedMemoryPages = imp.memoryMinimum ?? 0;
      continue;
    }
    const expected = imp.kind === "func" ? importType(abiVersion, imp.module, imp.name) : undefined;
    if (!expected) {
      throw refused(`Failed to load Wasm module due to a missing import: ${imp.module}.${imp.name}`, "Failed to initialize Wasm code");
    }
    if (!sameFuncType(expected, imp.type!)) {
      throw refused(
        `Failed to load Wasm module due to an import type mismatch for ${imp.module}.${imp.name}: want ${formatFuncType(expected)}, have ${formatFuncType(imp.type!)}`,
        "Failed to initialize Wasm code",
      );
    }
  }

  const functions = new Map(info.exports.filter((e) => e.kind === "func").map((e) => [e.name, e]));
  const hasInitialize = functions.has("_initialize");
  const callable = new Set<string>();
  for (const [name, entry] of functions) {
    if ((name === "main" || name === "__main_void") && !hasInitialize) continue;
    if (name === "_start" && hasInitialize) continue;
    const expected = exportType(abiVersion, name);
    if (!expected) continue;
    if (!sameFuncType(expected, entry.type!)) throw refused(`Bad function signature for: ${name}`, "Failed to initialize Wasm code");
    callable.add(name);
  }
  if (!callable.has("malloc") && !callable.has("proxy_on_memory_allocate")) {
    throw refused("Wasm module is missing malloc function.", "Failed to initialize Wasm code");
  }
  if (importedMemoryPages === undefined && !info.exports.some((e) => e.kind === "memory")) {
    throw refused("Wasm module is missing memory export.", "Failed to initialize Wasm code");
  }
  return { module, info, abiVersion, callable, importedMemoryPages };
}
