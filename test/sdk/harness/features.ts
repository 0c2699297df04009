// Test filter exercising the SDK's API through several root ids in one module:
//   "alpha" / "beta": add x-root: alpha|beta (root-id dispatch)
//   "callout":        onRequestHeaders calls cluster "auth" with this stream as the handler and pauses;
//                     the answer adds x-auth (200) and continues, or sends a 403 local reply
//   "state":          shared data with CAS, a counter, a gauge, properties, the clock and the tick timer
//   "body":           rewrites the response body (replace, prepend, append)
//   "queue":          each request enqueues its path; onQueueReady drains the queue into log lines
//   "snapshot":       writes two headers through a current snapshot and adds what the snapshot reads back
export * from "proxy-wasm-as-sdk/abi/exports";
import {
  Counter,
  FilterDataStatus,
  FilterHeadersStatus,
  Gauge,
  getCurrentTimeNanoseconds,
  getPropertyBool,
  getPropertyInt,
  getPropertyString,
  getSharedData,
  HeaderPair,
  HttpContext,
  httpCall,
  httpCallResponseBody,
  httpCallResponseHeaders,
  lastResult,
  logInfo,
  registerRootContext,
  requestHeaders,
  responseBody,
  responseHeaders,
  RootContext,
  sendLocalResponse,
  setSharedData,
  setTickPeriod,
  continueRequest,
  dequeueSharedQueue,
  enqueueSharedQueue,
  getStatus,
  registerSharedQueue,
  WasmResult,
} from "proxy-wasm-as-sdk";

class NamedRoot extends RootContext {
  constructor(contextId: u32, readonly name: string) {
    super(contextId);
  }
  createHttpContext(contextId: u32): HttpContext {
    return new NamedStream(contextId, this);
  }
}

class NamedStream extends HttpContext {
  constructor(contextId: u32, readonly named: NamedRoot) {
    super(contextId, named);
  }
  onResponseHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    responseHeaders.add("x-root", this.named.name);
    return FilterHeadersStatus.Continue;
  }
}

class CalloutRoot extends RootContext {
  createHttpContext(contextId: u32): HttpContext {
    return new CalloutStream(contextId, this);
  }
}

class CalloutStream extends HttpContext {
  onRequestHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    const user = requestHeaders.get("x-user");
    const headers = [new HeaderPair(":method", "GET"), new HeaderPair(":path", "/check"), new HeaderPair(":authority", "auth"), new HeaderPair("x-user", user === null ? "" : user)];
    const token = httpCall("auth", headers, null, [], 1000, this);
    if (token == 0) {
      sendLocalResponse(500, "callout_refused", "callout refused: " + lastResult().toString() + "\n", []);
      return FilterHeadersStatus.StopAllIterationAndWatermark;
    }
    return FilterHeadersStatus.StopAllIterationAndWatermark;
  }

  onHttpCallResponse(token: u32, numHeaders: u32, bodySize: u32, numTrailers: u32): void {
    const status = httpCallResponseHeaders.get(":status");
    const body = httpCallResponseBody.readString();
    if (status == "200" && body !== null) {
      requestHeaders.add("x-auth", body);
      continueRequest();
      return;
    }
    if (numHeaders == 0) {
      const failure = getStatus();
      sendLocalResponse(502, "auth failed", failure === null ? "no status\n" : failure.code.toString() + " " + failure.message + "\n", []);
      return;
    }
    sendLocalResponse(403, "auth denied", "denied\n", [new HeaderPair("x-auth-status", status === null ? "none" : status)]);
  }
}

class StateRoot extends RootContext {
  readonly requests: Counter = new Counter("features.requests");
  readonly inFlight: Gauge = new Gauge("features.in_flight");
  onConfigure(pluginConfigurationSize: u32): bool {
    setTickPeriod(1000);
    return true;
  }
  onTick(): void {
    const data = getSharedData("hits");
    logInfo("tick: hits=" + (data === null ? "none" : String.UTF8.decode(data.value)));
  }
  createHttpContext(contextId: u32): HttpContext {
    return new StateStream(contextId, this);
  }
}

class StateStream extends HttpContext {
  constructor(contextId: u32, readonly state: StateRoot) {
    super(contextId, state);
  }
  onRequestHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    // Compare-and-swap increment of a shared counter, retried on a lost race.
    let result = WasmResult.CasMismatch;
    let hits = 0;
    for (let attempt = 0; attempt < 8 && result == WasmResult.CasMismatch; attempt++) {
      const data = getSharedData("hits");
      hits = data === null ? 1 : I32.parseInt(String.UTF8.decode(data.value)) + 1;
      result = setSharedData("hits", String.UTF8.encode(hits.toString()), data === null ? 0 : data.cas);
    }
    this.state.requests.increment();
    this.state.inFlight.add(1);
    const path = getPropertyString(["request", "path"]);
    requestHeaders.add("x-hits", hits.toString());
    requestHeaders.add("x-path", path === null ? "none" : path);
    requestHeaders.add("x-missing-property", getPropertyString(["request", "no_such_thing"]) === null ? lastResult().toString() : "present");
    requestHeaders.add("x-conn-id", getPropertyInt(["connection", "id"], -1).toString());
    requestHeaders.add("x-mtls", getPropertyBool(["connection", "mtls"], true) ? "true" : "false");
    const notInt = getPropertyInt(["request", "path"], -7);
    requestHeaders.add("x-int-of-string", notInt.toString() + "/" + lastResult().toString());
    requestHeaders.add("x-time-ms", (getCurrentTimeNanoseconds() / 1_000_000).toString());
    requestHeaders.add("x-requests", this.state.requests.get().toString());
    return FilterHeadersStatus.Continue;
  }
  onDone(): bool {
    this.state.inFlight.add(-1);
    return true;
  }
}

class BodyRoot extends RootContext {
  createHttpContext(contextId: u32): HttpContext {
    return new BodyStream(contextId, this);
  }
}

class BodyStream extends HttpContext {
  onResponseBody(bodySize: u32, endOfStream: bool): FilterDataStatus {
    if (!endOfStream) return FilterDataStatus.StopIterationAndBuffer;
    const text = responseBody.readString();
    responseBody.replaceString(text === null ? "" : text.toUpperCase());
    responseBody.prependString("<");
    responseBody.appendString(">");
    return FilterDataStatus.Continue;
  }
}

class QueueRoot extends RootContext {
  token: u32 = 0;
  onConfigure(pluginConfigurationSize: u32): bool {
    this.token = registerSharedQueue("paths");
    return this.token != 0;
  }
  onQueueReady(queueToken: u32): void {
    // Bounded: one callback is posted per enqueue, so a few items at most are waiting.
    for (let i = 0; i < 16; i++) {
      const item = dequeueSharedQueue(queueToken);
      if (item === null) {
        logInfo("queue: " + (lastResult() == WasmResult.Empty ? "empty" : "error " + lastResult().toString()));
        return;
      }
      logInfo("queue: " + String.UTF8.decode(item));
    }
  }
  createHttpContext(contextId: u32): HttpContext {
    return new QueueStream(contextId, this);
  }
}

class QueueStream extends HttpContext {
  constructor(contextId: u32, readonly queue: QueueRoot) {
    super(contextId, queue);
  }
  onRequestHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    const path = requestHeaders.get(":path");
    enqueueSharedQueue(this.queue.token, String.UTF8.encode(path === null ? "?" : path));
    return FilterHeadersStatus.Continue;
  }
}

class SnapshotRoot extends RootContext {
  createHttpContext(contextId: u32): HttpContext {
    return new SnapshotStream(contextId, this);
  }
}

/** The UTF-16 code units of `text`, comma-separated: a lone surrogate shows as itself, not as U+FFFD. */
function units(text: string | null): string {
  if (text === null) return "null";
  const out = new Array<string>();
  for (let i = 0; i < text.length; i++) out.push(text.charCodeAt(i).toString());
  return out.join(",");
}

class SnapshotStream extends HttpContext {
  onRequestHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    const snap = requestHeaders.snapshot();
    // Both values are built at run time (not literals), as a filter's identity values are.
    const plain = "plain-" + numHeaders.toString();
    const lone = "a" + String.fromCharCode(0xd800) + "b";
    const wrote = requestHeaders.replace("x-plain", plain) == WasmResult.Ok && requestHeaders.replace("x-lone", lone) == WasmResult.Ok;
    const readPlain = snap.get("x-plain");
    const readLone = snap.get("x-lone");
    const found = snap.find("x-plain") ? snap.foundLength : -1;
    const hasMissing = snap.has("x-missing");
    // add() makes the next snapshot read the map again; every read above is done.
    requestHeaders.add("x-wrote", wrote ? "yes" : "no");
    requestHeaders.add("x-read-plain", readPlain === null ? "null" : readPlain);
    requestHeaders.add("x-read-lone", units(readLone));
    requestHeaders.add("x-found-length", found.toString());
    requestHeaders.add("x-has-missing", hasMissing ? "yes" : "no");
    return FilterHeadersStatus.Continue;
  }
}

registerRootContext((id: u32): RootContext => new SnapshotRoot(id), "snapshot");
registerRootContext((id: u32): RootContext => new QueueRoot(id), "queue");
registerRootContext((id: u32): RootContext => new NamedRoot(id, "alpha"), "alpha");
registerRootContext((id: u32): RootContext => new NamedRoot(id, "beta"), "beta");
registerRootContext((id: u32): RootContext => new CalloutRoot(id), "callout");
registerRootContext((id: u32): RootContext => new StateRoot(id), "state");
registerRootContext((id: u32): RootContext => new BodyRoot(id), "body");
