// Real Envoy 1.40 in the loop: bootstrap generation, start/stop, logs and stats. Self-contained: it
// depends on nothing else of the project except the installer script that pins the Envoy binary.
export { buildBootstrap, normalizeListeners, wasmFilters } from "./bootstrap.ts";
export type { Bootstrap, BootstrapOptions, ClusterSpec, FailurePolicy, HttpFilterSpec, ListenerSpec, NativeFilterSpec, RouteSpec, WasmFilterSpec } from "./bootstrap.ts";
export { startEnvoy, validateBootstrap, parseStats, EnvoyStartError } from "./run.ts";
export type { EnvoyInstance, StartOptions } from "./run.ts";
export { LOG_FORMAT, parseLogLine, toWasmLog } from "./logs.ts";
export type { EnvoyLogLine, PluginIdentity, WasmLogLevel, WasmLogLine } from "./logs.ts";
export { envoyBinary } from "./binary.ts";
