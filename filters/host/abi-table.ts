/**
 * What Envoy registers and looks up, by ABI version (proxy-wasm-host.md §1, §2): the import names
 * and exact types a module may link against, and the exact types of the callbacks it may export.
 * Names here are the exact ABI spellings.
 */
import { type FuncType, type ValueType } from "./binary.ts";

/** ABI versions cpp-host recognises, by marker export. */
export type AbiVersion = "0_1_0" | "0_2_0" | "0_2_1";
/** The marker exports in the order cpp-host matches names (the first in export order wins). */
export const abiMarkers: Record<string, AbiVersion> = {
  proxy_abi_version_0_1_0: "0_1_0",
  proxy_abi_version_0_2_0: "0_2_0",
  proxy_abi_version_0_2_1: "0_2_1",
};

/** Parses a compact signature: `i` = i32, `I` = i64, `:` separates params from results. */
function sig(text: string): FuncType {
  const [p, r] = text.split(":");
  const t = (c: string): ValueType => (c === "I" ? "i64" : "i32");
  return { params: [...p].map(t), results: [...r].map(t) };
}

const envAll: Record<string, string> = {
  proxy_log: "iii:i",
  proxy_get_current_time_nanoseconds: "i:i",
  proxy_set_tick_period_milliseconds: "i:i",
  proxy_get_buffer_status: "iii:i",
  proxy_get_buffer_bytes: "iiiii:i",
  proxy_set_buffer_bytes: "iiiii:i",
  proxy_get_header_map_pairs: "iii:i",
  proxy_set_header_map_pairs: "iii:i",
  proxy_get_header_map_value: "iiiii:i",
  proxy_add_header_map_value: "iiiii:i",
  proxy_replace_header_map_value: "iiiii:i",
  proxy_remove_header_map_value: "iii:i",
  proxy_get_header_map_size: "ii:i",
  proxy_send_local_response: "iiiiiiii:i",
  proxy_http_call: "iiiiiiiiii:i",
  proxy_grpc_call: "iiiiiiiiiiii:i",
  proxy_grpc_stream: "iiiiiiiii:i",
  proxy_grpc_send: "iiii:i",
  proxy_grpc_cancel: "i:i",
  proxy_grpc_close: "i:i",
  proxy_get_status: "iii:i",
  proxy_set_shared_data: "iiiii:i",
  proxy_get_shared_data: "iiiii:i",
  proxy_register_shared_queue: "iii:i",
  proxy_resolve_shared_queue: "iiiii:i",
  proxy_enqueue_shared_queue: "iii:i",
  proxy_dequeue_shared_queue: "iii:i",
  proxy_define_metric: "iiii:i",
  proxy_increment_metric: "iI:i",
  proxy_record_metric: "iI:i",
  proxy_get_metric: "ii:i",
  proxy_get_property: "iiii:i",
  proxy_set_property: "iiii:i",
  proxy_set_effective_context: "i:i",
  proxy_done: ":i",
  proxy_call_foreign_function: "iiiiii:i",
  envoy_resolve_dns: "iii:i",
  pthread_equal: "ii:i",
  emscripten_notify_memory_growth: "i:",
};
const envByVersion: Record<AbiVersion, Record<string, string>> = {
  "0_1_0": {
    proxy_get_configuration: "ii:i",
    proxy_continue_request: ":i",
    proxy_continue_response: ":i",
    proxy_clear_route_cache: ":i",
  },
  "0_2_0": { proxy_continue_stream: "i:i", proxy_close_stream: "i:i" },
  "0_2_1": { proxy_continue_stream: "i:i", proxy_close_stream: "i:i", proxy_get_log_level: "i:i" },
};

/** WASI preview1 functions Envoy provides, registered under both WASI module names. */
const wasi: Record<string, string> = {
  fd_write: "iiii:i",
  fd_pwrite: "iiiIi:i",
  fd_read: "iiii:i",
  fd_pread: "iiiIi:i",
  fd_seek: "iIii:i",
  fd_close: "i:i",
  fd_fdstat_get: "ii:i",
  fd_fdstat_set_flags: "ii:i",
  fd_fdstat_set_rights: "iII:i",
  fd_prestat_get: "ii:i",
  fd_prestat_dir_name: "iii:i",
  fd_filestat_get: "ii:i",
  fd_advise: "iIIi:i",
  fd_allocate: "iII:i",
  fd_datasync: "i:i",
  fd_sync: "i:i",
  fd_filestat_set_size: "iI:i",
  fd_filestat_set_times: "iIIi:i",
  fd_tell: "ii:i",
  fd_readdir: "iiiIi:i",
  fd_renumber: "ii:i",
  path_open: "iiiiiIIii:i",
  path_filestat_get: "iiiii:i",
  path_create_directory: "iii:i",
  path_filestat_set_times: "iiiiIIi:i",
  path_remove_directory: "iii:i",
  path_rename: "iiiiii:i",
  path_unlink_file: "iii:i",
  path_readlink: "iiiiii:i",
  // cpp-host declares these with 6 and 4 params (WASI has 7 and 5); modules must match cpp-host.
  path_link: "iiiiii:i",
  path_symlink: "iiii:i",
  sock_accept: "iii:i",
  sock_recv: "iiiiii:i",
  sock_send: "iiiii:i",
  sock_shutdown: "ii:i",
  environ_sizes_get: "ii:i",
  environ_get: "ii:i",
  args_sizes_get: "ii:i",
  args_get: "ii:i",
  clock_time_get: "iIi:i",
  clock_res_get: "ii:i",
  random_get: "ii:i",
  sched_yield: ":i",
  poll_oneoff: "iiii:i",
  proc_exit: "i:",
};

/** The two module names Envoy registers its WASI functions under. */
export const wasiModules = ["wasi_snapshot_preview1", "wasi_unstable"] as const;

/** importType returns the type Envoy registers for module.name under the ABI version, or undefined. */
export function importType(version: AbiVersion, module: string, name: string): FuncType | undefined {
  if (module === "env") {
    const text = envByVersion[version][name] ?? envAll[name];
    return text === undefined ? undefined : sig(text);
  }
  if ((wasiModules as readonly string[]).includes(module) && wasi[name] !== undefined) return sig(wasi[name]);
  return undefined;
}

/** The names of the env imports registered for a version (for tests and docs). */
export function envImportNames(version: AbiVersion): string[] {
  return [...Object.keys(envAll), ...Object.keys(envByVersion[version])];
}

/** The names of the WASI functions Envoy provides. */
export const wasiImportNames: readonly string[] = Object.keys(wasi);

const callbacks: Record<string, string> = {
  _initialize: ":",
  main: "ii:i",
  __main_void: ":i",
  _start: ":",
  malloc: "i:i",
  proxy_on_memory_allocate: "i:i",
  proxy_on_context_create: "ii:",
  proxy_on_vm_start: "ii:i",
  proxy_on_configure: "ii:i",
  proxy_validate_configuration: "ii:i",
  proxy_on_tick: "i:",
  proxy_on_queue_ready: "ii:",
  proxy_on_done: "i:i",
  proxy_on_log: "i:",
  proxy_on_delete: "i:",
  proxy_on_request_headers: "iii:i",
  proxy_on_request_body: "iii:i",
  proxy_on_request_trailers: "ii:i",
  proxy_on_request_metadata: "ii:i",
  proxy_on_response_headers: "iii:i",
  proxy_on_response_body: "iii:i",
  proxy_on_response_trailers: "ii:i",
  proxy_on_response_metadata: "ii:i",
  proxy_on_http_call_response: "iiiii:",
  proxy_on_new_connection: "i:i",
  proxy_on_downstream_data: "iii:i",
  proxy_on_upstream_data: "iii:i",
  proxy_on_downstream_connection_close: "ii:",
  proxy_on_upstream_connection_close: "ii:",
  proxy_on_grpc_receive_initial_metadata: "iii:",
  proxy_on_grpc_receive: "iii:",
  proxy_on_grpc_receive_trailing_metadata: "iii:",
  proxy_on_grpc_close: "iii:",
  envoy_on_resolve_dns: "iii:",
  envoy_on_stats_update: "ii:",
};

/**
 * exportType returns the exact type cpp-host looks an export up with, or undefined when the host
 * never looks that name up (the export is then ignored). `main` and `__main_void` are looked up
 * only when `_initialize` exists; `_start` only when it does not.
 */
export function exportType(version: AbiVersion, name: string): FuncType | undefined {
  if (version === "0_1_0" && (name === "proxy_on_request_headers" || name === "proxy_on_response_headers")) {
    return sig("ii:i");
  }
  if (version === "0_1_0" && name === "proxy_on_foreign_function") return undefined;
  if (name === "proxy_on_foreign_function") return sig("iii:");
  const text = callbacks[name];
  return text === undefined ? undefined : sig(text);
}
