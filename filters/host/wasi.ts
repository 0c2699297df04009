/**
 * The WASI preview1 functions Envoy provides (proxy-wasm-host.md §2.2), registered under both
 * `wasi_snapshot_preview1` and `wasi_unstable`. No filesystem, args or sockets; stdout and stderr
 * become wasm log lines; proc_exit logs and returns instead of trapping.
 */
import { randomFillSync } from "node:crypto";
import { wasiModules } from "./abi-table.ts";
import { type WasmVm } from "./vm.ts";

const errno = { success: 0, badf: 8, notdir: 20, fault: 21, inval: 28, noent: 44, nosys: 52, notsup: 58 } as const;

/** wasiHostcalls builds the WASI functions for one VM, under both WASI module names. */
export function wasiHostcalls(vm: WasmVm): Record<string, (...args: never[]) => number | void> {
  const mem = () => vm.memory;
  const stdio = (fd: number) => fd === 1 || fd === 2;
  const stdioOnly = (fd: number) => (stdio(fd) ? errno.success : errno.badf);
  const environment = () => Object.entries(vm.settings.env).map(([k, v]) => Buffer.from(`${k}=${v}\0`, "utf8"));

  const write = (fd: number, iovs: number, count: number, nwrittenPtr: number): number => {
    if (!stdio(fd)) return errno.badf;
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < count >>> 0; i++) {
      const entry = mem().read(iovs + 8 * i, 8);
      if (!entry) return errno.fault;
      const view = new DataView(entry.buffer);
      const chunk = mem().read(view.getUint32(0, true), view.getUint32(4, true));
      if (!chunk) return errno.fault;
      chunks.push(chunk);
    }
    const all = Buffer.concat(chunks);
    const message = all.toString("utf8").replace(/\n$/, "");
    vm.log(fd === 1 ? 2 : 4, message, vm.target());
    return mem().writeU32(nwrittenPtr, all.length) ? errno.success : errno.fault;
  };

  const functions: Record<string, (...args: never[]) => number | void> = {
    fd_write: write,
    fd_pwrite: (fd: number, iovs: number, count: number, _offset: bigint, ret: number) => write(fd, iovs, count, ret),
    fd_read: () => errno.nosys,
    fd_pread: () => errno.nosys,
    fd_seek: () => {
      vm.hostLog(4, "wasi fd_seek is not supported");
      return errno.success;
    },
    fd_close: () => {
      vm.hostLog(4, "wasi fd_close is not supported");
      return errno.success;
    },
    fd_fdstat_get: (fd: number, ret: number) => {
      if (!stdio(fd)) return errno.badf;
      const stat = new Uint8Array(24);
      new DataView(stat.buffer).setBigUint64(8, 64n, true);
      return mem().write(ret, stat) ? errno.success : errno.fault;
    },
    fd_fdstat_set_flags: () => errno.nosys,
    fd_fdstat_set_rights: stdioOnly,
    fd_prestat_get: () => errno.badf,
    fd_prestat_dir_name: () => errno.nosys,
    fd_filestat_get: () => errno.badf,
    fd_advise: () => errno.success,
    fd_allocate: stdioOnly,
    fd_datasync: stdioOnly,
    fd_sync: stdioOnly,
    fd_filestat_set_size: stdioOnly,
    fd_filestat_set_times: stdioOnly,
    fd_tell: (fd: number, ret: number) => {
      if (!stdio(fd)) return errno.badf;
      return mem().writeU64(ret, 0n) ? errno.success : errno.fault;
    },
    fd_readdir: (_fd: number, _buf: number, _len: number, _cookie: bigint, ret: number) => {
      mem().writeU32(ret, 0);
      return errno.notdir;
    },
    fd_renumber: (fd: number) => (stdio(fd) ? errno.notsup : errno.badf),
    path_open: () => errno.noent,
    path_filestat_get: () => errno.notsup,
    path_create_directory: () => errno.notsup,
    path_filestat_set_times: () => errno.notsup,
    path_remove_directory: () => errno.notsup,
    path_rename: () => errno.notsup,
    path_unlink_file: () => errno.notsup,
    path_readlink: (_a: number, _b: number, _c: number, _d: number, _e: number, ret: number) => {
      mem().writeU32(ret, 0);
      return errno.notsup;
    },
    path_link: () => errno.notsup,
    path_symlink: () => errno.notsup,
    sock_accept: () => errno.notsup,
    sock_recv: () => errno.notsup,
    sock_send: () => errno.notsup,
    sock_shutdown: () => errno.notsup,
    environ_sizes_get: (countPtr: number, sizePtr: number) => {
      const env = environment();
      const size = env.reduce((n, e) => n + e.length, 0);
      return mem().writeU32(countPtr, env.length) && mem().writeU32(sizePtr, size) ? errno.success : errno.fault;
    },
    environ_get: (arrayPtr: number, bufPtr: number) => {
      let offset = bufPtr >>> 0;
      for (const [i, entry] of environment().entries()) {
        if (!mem().writeU32(arrayPtr + 4 * i, offset) || !mem().write(offset, entry)) return errno.fault;
        offset += entry.length;
      }
      return errno.success;
    },
    args_sizes_get: (countPtr: number, sizePtr: number) =>
      mem().writeU32(countPtr, 0) && mem().writeU32(sizePtr, 0) ? errno.success : errno.fault,
    args_get: () => errno.success,
    clock_time_get: (id: number, _precision: bigint, ret: number) => {
      const { clock } = vm.settings.runtime;
      if (id !== 0 && id !== 1) return errno.notsup;
      return mem().writeU64(ret, id === 0 ? clock.nowNs() : clock.monotonicNs()) ? errno.success : errno.fault;
    },
    clock_res_get: (id: number, ret: number) => {
      if (id !== 0 && id !== 1) return errno.notsup;
      return mem().writeU64(ret, 1n) ? errno.success : errno.fault;
    },
    random_get: (ptr: number, len: number) => {
      if (len >>> 0 > 65536) return errno.inval;
      if (len >>> 0 === 0) return errno.success;
      const bytes = randomFillSync(new Uint8Array(len >>> 0));
      return mem().write(ptr, bytes) ? errno.success : errno.fault;
    },
    sched_yield: () => errno.success,
    poll_oneoff: (_in: number, _out: number, _n: number, ret: number) => (mem().writeU32(ret, 0) ? errno.success : errno.fault),
    proc_exit: (code: number) => {
      vm.hostLog(0, `wasi_unstable proc_exit ${code}`);
    },
  };
  const table: Record<string, (...args: never[]) => number | void> = {};
  for (const module of wasiModules) for (const [name, fn] of Object.entries(functions)) table[`${module}.${name}`] = fn;
  return table;
}
