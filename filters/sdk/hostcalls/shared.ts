// Shared data (a key-value store shared by every VM of the same vm_id, with compare-and-swap) and
// shared queues (FIFO byte queues; enqueue wakes the registering root's onQueueReady).
import {
  proxy_dequeue_shared_queue,
  proxy_enqueue_shared_queue,
  proxy_get_shared_data,
  proxy_register_shared_queue,
  proxy_resolve_shared_queue,
  proxy_set_shared_data,
} from "../abi/imports";
import { clearRet, retPtr, takeResult } from "../abi/malloc";
import { WasmResult } from "../types";
import { setLastResult } from "./status";
import { encodeUtf8, utf8 } from "../utf8";

/** SharedData is one value read from the store with the cas to pass to a conditional setSharedData. */
export class SharedData {
  constructor(readonly value: ArrayBuffer, readonly cas: u32) {}
}

/** getSharedData returns the value and cas of `key`, or null (NotFound when absent; see lastResult()). */
export function getSharedData(key: string): SharedData | null {
  return getSharedDataBytes(utf8(key));
}

/** getSharedDataBytes is getSharedData with the key's UTF-8 encoded once by the caller (no per-call encoding). */
export function getSharedDataBytes(k: ArrayBuffer): SharedData | null {
  clearRet();
  const casPtr = retPtr() + 8;
  store<u32>(casPtr, 0);
  const r = setLastResult(proxy_get_shared_data(changetype<usize>(k), <usize>k.byteLength, retPtr(), retPtr() + 4, casPtr));
  if (r != WasmResult.Ok) return null;
  const cas = load<u32>(casPtr);
  return new SharedData(takeResult(), cas);
}

/**
 * setSharedData stores `value` under `key`. With cas = 0 the write is unconditional; otherwise it fails
 * with CasMismatch if the key changed since the read that returned `cas`.
 */
export function setSharedData(key: string, value: ArrayBuffer, cas: u32 = 0): WasmResult {
  return setSharedDataBytes(utf8(key), value, cas);
}

/** setSharedDataBytes is setSharedData with a pre-encoded key. */
export function setSharedDataBytes(k: ArrayBuffer, value: ArrayBuffer, cas: u32 = 0): WasmResult {
  return <WasmResult>(
    proxy_set_shared_data(changetype<usize>(k), <usize>k.byteLength, changetype<usize>(value), <usize>value.byteLength, cas)
  );
}

/** registerSharedQueue creates (or finds) the queue `name` of this vm_id and makes this root its receiver; returns its token, 0 on failure. */
export function registerSharedQueue(name: string): u32 {
  const n = encodeUtf8(name);
  store<u32>(retPtr(), 0);
  const r = setLastResult(proxy_register_shared_queue(changetype<usize>(n), <usize>n.byteLength, retPtr()));
  return r == WasmResult.Ok ? load<u32>(retPtr()) : 0;
}

/** resolveSharedQueue finds the queue `name` of `vmId` ("" = own vm_id); returns its token, 0 when absent (NotFound). */
export function resolveSharedQueue(vmId: string, name: string): u32 {
  const v = encodeUtf8(vmId);
  const n = encodeUtf8(name);
  store<u32>(retPtr(), 0);
  const r = setLastResult(
    proxy_resolve_shared_queue(changetype<usize>(v), <usize>v.byteLength, changetype<usize>(n), <usize>n.byteLength, retPtr()),
  );
  return r == WasmResult.Ok ? load<u32>(retPtr()) : 0;
}

/** enqueueSharedQueue appends `data` to the queue; NotFound for an unknown token. */
export function enqueueSharedQueue(token: u32, data: ArrayBuffer): WasmResult {
  return <WasmResult>proxy_enqueue_shared_queue(token, changetype<usize>(data), <usize>data.byteLength);
}

/** dequeueSharedQueue removes and returns the oldest item, or null (Empty when drained, NotFound for an unknown token). */
export function dequeueSharedQueue(token: u32): ArrayBuffer | null {
  clearRet();
  const r = setLastResult(proxy_dequeue_shared_queue(token, retPtr(), retPtr() + 4));
  if (r != WasmResult.Ok) return null;
  return takeResult();
}
