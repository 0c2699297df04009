// Context bookkeeping between the raw ABI callbacks (abi/exports.ts) and the context classes:
// root factories by root id, live contexts by id, pending callouts by token.
import { CalloutHandler, HttpContext, RootContext, TcpContext } from "./context";
import { E_NO_ROOT_FACTORY } from "./errors";
import { beginCallback } from "./hostcalls/callback";
import { logCritical } from "./hostcalls/log";
import { getPropertyString } from "./hostcalls/properties";

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

class Registration {
  constructor(readonly rootId: string, readonly builder: RootBuilder) {}
}

/** PendingCallout is a callout waiting for its answer. */
export class PendingCallout {
  constructor(readonly handler: CalloutHandler, readonly contextId: u32) {}
}

const registrations = new Array<Registration>();
const roots = new Map<u32, RootContext>();
const httpContexts = new Map<u32, HttpContext>();
const tcpContexts = new Map<u32, TcpContext>();
const callouts = new Map<u32, PendingCallout>();
let active: u32 = 0;
// The stream context looked up last: every stream callback asks for its context, usually the same
// one several times in a row, so one comparison replaces two hash lookups. 0 is never a stream id.
let lastHttpId: u32 = 0;
let lastHttp: HttpContext | null = null;

/**
 * registerRootContext binds `rootId` (Envoy's root_id / the plugin_root_id property) to a factory.
 * Call it at module top level, once per root id. The root id "" is the default used when no other
 * registration matches; a module with a single registration uses it for any root id.
 */
export function registerRootContext(factory: RootFactory, rootId: string = ""): void {
  registrations.push(new Registration(rootId, new FactoryBuilder(factory)));
}

/** registerRootBuilder is registerRootContext for a RootBuilder object; same root id rules. */
export function registerRootBuilder(builder: RootBuilder, rootId: string = ""): void {
  registrations.push(new Registration(rootId, builder));
}

function findFactory(rootId: string): RootBuilder | null {
  let fallback: RootBuilder | null = null;
  for (let i = 0; i < registrations.length; i++) {
    const r = unchecked(registrations[i]);
    if (r.rootId == rootId) return r.builder;
    if (r.rootId == "") fallback = r.builder;
  }
  if (fallback === null && registrations.length == 1) fallback = unchecked(registrations[0]).builder;
  return fallback;
}

/** createRoot runs the factory for the plugin's root id; logs and returns false when none matches. */
export function createRoot(contextId: u32): bool {
  let rootId: string = "";
  if (registrations.length > 1) {
    const id = getPropertyString(["plugin_root_id"]);
    if (id !== null) rootId = id;
  }
  const factory = findFactory(rootId);
  if (factory === null) {
    logCritical(E_NO_ROOT_FACTORY + "\"" + rootId + "\"");
    return false;
  }
  roots.set(contextId, factory.create(contextId));
  return true;
}

/** createStream asks the parent root for a TCP context first, then an HTTP context. */
export function createStream(contextId: u32, rootContextId: u32): void {
  if (!roots.has(rootContextId)) return;
  const root = roots.get(rootContextId);
  const tcp = root.createTcpContext(contextId);
  if (tcp !== null) {
    tcpContexts.set(contextId, tcp);
    return;
  }
  const created = root.createHttpContext(contextId);
  httpContexts.set(contextId, created);
  lastHttpId = contextId;
  lastHttp = created;
}

/** rootContext returns the root with `contextId`, or null (a failed or unknown root). */
export function rootContext(contextId: u32): RootContext | null {
  return roots.has(contextId) ? roots.get(contextId) : null;
}

/** httpContext returns the HTTP stream context with `contextId`, or null. */
export function httpContext(contextId: u32): HttpContext | null {
  if (contextId == lastHttpId && contextId != 0) return lastHttp;
  if (!httpContexts.has(contextId)) return null;
  const found = httpContexts.get(contextId);
  lastHttpId = contextId;
  lastHttp = found;
  return found;
}

/** tcpContext returns the TCP context with `contextId`, or null. */
export function tcpContext(contextId: u32): TcpContext | null {
  return tcpContexts.has(contextId) ? tcpContexts.get(contextId) : null;
}

/** contextExists tells whether any context with `contextId` is alive. */
export function contextExists(contextId: u32): bool {
  return roots.has(contextId) || httpContexts.has(contextId) || tcpContexts.has(contextId);
}

/** forgetContext drops a context after proxy_on_delete, so memory stays flat. */
export function forgetContext(contextId: u32): void {
  if (contextId == lastHttpId) {
    lastHttpId = 0;
    lastHttp = null;
  }
  if (httpContexts.has(contextId)) httpContexts.delete(contextId);
  else if (tcpContexts.has(contextId)) tcpContexts.delete(contextId);
  else if (roots.has(contextId)) roots.delete(contextId);
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
  callouts.set(token, new PendingCallout(wrapper === null ? handler : wrapper.wrap(handler, active), active));
}

/** findCallout returns a pending callout (its handler and issuing context), or null when the token is unknown. */
export function findCallout(token: u32): PendingCallout | null {
  return callouts.has(token) ? callouts.get(token) : null;
}

/** dropCallout forgets a finished callout. */
export function dropCallout(token: u32): void {
  if (callouts.has(token)) callouts.delete(token);
}
