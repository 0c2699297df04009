// Context bookkeeping between the raw ABI callbacks (abi/http.ts, tcp.ts, grpc.ts) and the context
// classes: root factories by root id, live contexts by id, pending callouts by token.
import { proxy_get_property } from "./abi/imports";
import { clearRet, newBytes, retPtr, takeResult } from "./abi/malloc";
import { BaseContext, CalloutHandler, HttpContext, RootContext, TcpContext } from "./context";
import { SDK_TEXTS, SdkText } from "./errors";
import { beginCallback } from "./hostcalls/callback";
import { logBytes } from "./hostcalls/log";
import { IdTable } from "./table";
import { LogLevel, WasmResult } from "./types";
import { encodeUtf8 } from "./utf8";

/** RootFactory builds the root context for a plugin; it must be a top-level function (AssemblyScript has no closures). */
export type RootFactory = (contextId: u32) => RootContext;

/**
 * RootBuilder creates root contexts when a factory function cannot carry the state it needs
 * (AssemblyScript has no closures), e.g. a Composition of filters. Override create().
 */
export class RootBuilder {
  /** create returns the root context for `contextId`; the default is a RootContext that does nothing. */
  create(contextId: u32): RootContext {
    return new RootContext(contextId);
  }
}

/** Wraps a plain factory function as a RootBuilder. */
class FactoryBuilder extends RootBuilder {
  constructor(readonly factory: RootFactory) {
    super();
  }
  create(contextId: u32): RootContext {
    return this.factory(contextId);
  }
}

// Registrations as a list, newest first: a module registers once or a few times at start-up, and a
// list links no array-growth code.
class Registration {
  constructor(readonly rootId: string, readonly builder: RootBuilder, readonly next: Registration | null) {}
}

// Context kinds, the tag of each entry in `contexts`.
const ROOT: u32 = 1;
const HTTP: u32 = 2;
const TCP: u32 = 3;

let registrations: Registration | null = null;
let registrationCount: i32 = 0;
// Every live context by id, tagged with its kind; every pending callout by token, tagged with the
// context that issued it.
const contexts = new IdTable();
const callouts = new IdTable();
let active: u32 = 0;
// The stream context looked up last: every stream callback asks for its context, usually the same
// one several times in a row, so one comparison replaces a table lookup. 0 is never a stream id.
let lastHttpId: u32 = 0;
let lastHttp: HttpContext | null = null;

/**
 * registerRootContext binds `rootId` (Envoy's root_id / the plugin_root_id property) to a factory.
 * Call it at module top level, once per root id. The root id "" is the default used when no other
 * registration matches; a module with a single registration uses it for any root id.
 */
export function registerRootContext(factory: RootFactory, rootId: string = ""): void {
  registerRootBuilder(new FactoryBuilder(factory), rootId);
}

/** registerRootBuilder is registerRootContext for a RootBuilder object; same root id rules. */
export function registerRootBuilder(builder: RootBuilder, rootId: string = ""): void {
  registrations = new Registration(rootId, builder, registrations);
  registrationCount++;
}

// The property path of the plugin's root id, "plugin_root_id", as UTF-8.
const ROOT_ID_PATH: usize = memory.data<u8>([0x70, 0x6c, 0x75, 0x67, 0x69, 0x6e, 0x5f, 0x72, 0x6f, 0x6f, 0x74, 0x5f, 0x69, 0x64]);
const ROOT_ID_PATH_SIZE: usize = 14;

/** The plugin_root_id property as raw bytes; empty when the host has none. */
function readRootId(): ArrayBuffer {
  clearRet();
  if (proxy_get_property(ROOT_ID_PATH, ROOT_ID_PATH_SIZE, retPtr(), retPtr() + 4) != WasmResult.Ok) return newBytes(0);
  return takeResult();
}

/** Whether `text` is exactly `bytes` once encoded as UTF-8. */
function sameUtf8(text: string, bytes: ArrayBuffer): bool {
  const own = encodeUtf8(text);
  const n = own.byteLength;
  if (n != bytes.byteLength) return false;
  const a = changetype<usize>(own);
  const b = changetype<usize>(bytes);
  for (let i = 0; i < n; i++) if (load<u8>(a + <usize>i) != load<u8>(b + <usize>i)) return false;
  return true;
}

// The builder for a root id: the first registration of exactly that id, else the last one of "".
// The root id is compared as the host's bytes, so finding it decodes nothing.
function findBuilder(rootId: ArrayBuffer): RootBuilder | null {
  let match: RootBuilder | null = null;
  let fallback: RootBuilder | null = null;
  let r = registrations;
  while (r !== null) {
    if (fallback === null && r.rootId.length == 0) fallback = r.builder;
    if (sameUtf8(r.rootId, rootId)) match = r.builder;
    r = r.next;
  }
  return match !== null ? match : fallback;
}

// Logs `proxy-wasm sdk: no root context registered for root id "<id>"`, built as UTF-8 bytes.
function logNoRoot(rootId: ArrayBuffer): void {
  const prefix = SDK_TEXTS.bytes(SdkText.NoRootFactory);
  const p = <usize>prefix.byteLength;
  const n = <usize>rootId.byteLength;
  const line = newBytes(p + n + 2);
  const at = changetype<usize>(line);
  memory.copy(at, changetype<usize>(prefix), p);
  store<u8>(at + p, 0x22);
  memory.copy(at + p + 1, changetype<usize>(rootId), n);
  store<u8>(at + p + n + 1, 0x22);
  logBytes(LogLevel.Critical, line);
}

/** createRoot runs the factory for the plugin's root id; logs and returns false when none matches. */
export function createRoot(contextId: u32): bool {
  let builder: RootBuilder | null = null;
  let rootId = newBytes(0);
  // A single registration serves every root id, so only a module with several asks the host.
  if (registrationCount > 1) {
    rootId = readRootId();
    builder = findBuilder(rootId);
  } else {
    const only = registrations;
    if (only !== null) builder = only.builder;
  }
  if (builder === null) {
    logNoRoot(rootId);
    return false;
  }
  contexts.set(contextId, builder.create(contextId), ROOT);
  return true;
}

/** createStream asks the parent root for a TCP context first, then an HTTP context. */
export function createStream(contextId: u32, rootContextId: u32): void {
  const root = rootContext(rootContextId);
  if (root === null) return;
  const tcp = root.createTcpContext(contextId);
  if (tcp !== null) {
    contexts.set(contextId, tcp, TCP);
    return;
  }
  const created = root.createHttpContext(contextId);
  contexts.set(contextId, created, HTTP);
  lastHttpId = contextId;
  lastHttp = created;
}

// The context with `contextId` when it is of `kind`, else null.
function contextOf(contextId: u32, kind: u32): CalloutHandler | null {
  const slot = contexts.find(contextId);
  return slot >= 0 && contexts.tagAt(slot) == kind ? contexts.valueAt(slot) : null;
}

/** rootContext returns the root with `contextId`, or null (a failed or unknown root). */
export function rootContext(contextId: u32): RootContext | null {
  return changetype<RootContext | null>(contextOf(contextId, ROOT));
}

/** httpContext returns the HTTP stream context with `contextId`, or null. */
export function httpContext(contextId: u32): HttpContext | null {
  if (contextId == lastHttpId && contextId != 0) return lastHttp;
  const found = changetype<HttpContext | null>(contextOf(contextId, HTTP));
  if (found !== null) {
    lastHttpId = contextId;
    lastHttp = found;
  }
  return found;
}

/** tcpContext returns the TCP context with `contextId`, or null. */
export function tcpContext(contextId: u32): TcpContext | null {
  return changetype<TcpContext | null>(contextOf(contextId, TCP));
}

/** anyContext returns the stream, connection or (with `roots`) root context with `contextId`, or null. */
export function anyContext(contextId: u32, roots: bool): BaseContext | null {
  if (contextId == lastHttpId && contextId != 0) return lastHttp;
  const slot = contexts.find(contextId);
  if (slot < 0 || (!roots && contexts.tagAt(slot) == ROOT)) return null;
  return changetype<BaseContext>(contexts.valueAt(slot));
}

/** contextExists tells whether any context with `contextId` is alive. */
export function contextExists(contextId: u32): bool {
  return contexts.find(contextId) >= 0;
}

/** forgetContext drops a context after proxy_on_delete, so memory stays flat. */
export function forgetContext(contextId: u32): void {
  if (contextId == lastHttpId) {
    lastHttpId = 0;
    lastHttp = null;
  }
  contexts.remove(contextId);
}

/** setActiveContext records the context of the callback in progress (set by abi/exports.ts). */
export function setActiveContext(contextId: u32): void {
  active = contextId;
  // A new callback: header maps may have changed since the last one.
  beginCallback();
}

/** activeContextId returns the context id of the callback in progress (0 outside callbacks). */
export function activeContextId(): u32 {
  return active;
}

/**
 * CalloutWrapper lets a composition (compose.ts) wrap the handler of every callout a stream issues,
 * to act once the answer has been handled. The default keeps the handler.
 */
export class CalloutWrapper {
  /** wrap returns the handler to call with the answer of a callout `contextId` issued. */
  wrap(handler: CalloutHandler, contextId: u32): CalloutHandler {
    return handler;
  }
}

let calloutWrapper: CalloutWrapper | null = null;

/** setCalloutWrapper installs the module's wrapper (registerComposition does; filters never need to). */
export function setCalloutWrapper(wrapper: CalloutWrapper | null): void {
  calloutWrapper = wrapper;
}

/** rememberCallout stores the handler of a callout token and the context that issued it. */
export function rememberCallout(token: u32, handler: CalloutHandler): void {
  const wrapper = calloutWrapper;
  callouts.set(token, wrapper === null ? handler : wrapper.wrap(handler, active), active);
}

let foundIssuer: u32 = 0;

/** findCallout returns the handler of a pending callout, or null when the token is unknown; calloutIssuer() then names its context. */
export function findCallout(token: u32): CalloutHandler | null {
  const slot = callouts.find(token);
  if (slot < 0) return null;
  foundIssuer = callouts.tagAt(slot);
  return callouts.valueAt(slot);
}

/** calloutIssuer returns the context that issued the callout findCallout found last. */
export function calloutIssuer(): u32 {
  return foundIssuer;
}

/** dropCallout forgets a finished callout. */
export function dropCallout(token: u32): void {
  callouts.remove(token);
}
