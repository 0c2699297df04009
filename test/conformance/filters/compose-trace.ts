// Test filter for the SDK's Composition: one module with the same tracing filter registered alone
// (root id "trace") and composed twice as "a" then "b" (root id "traces"), so a scenario can run
// [trace a, trace b] as two Envoy filters and [traces] as one and compare what they logged.
// Configuration of one filter: "<name> <mode>", mode one of pass | reply | pause | pause-reply:
// reply answers 403 itself in onRequestHeaders; pause asks the callout cluster (/ok) and resumes
// on the answer; pause-reply refuses on the answer instead. Every callback logs "<name> <callback>".
export * from "proxy-wasm-as-sdk/abi/exports";
import {
  Composition,
  continueRequest,
  FilterDataStatus,
  FilterHeadersStatus,
  getPluginConfigurationString,
  HeaderPair,
  httpCall,
  HttpContext,
  logInfo,
  registerComposition,
  registerRootContext,
  requestHeaders,
  responseHeaders,
  RootContext,
  sendLocalResponse,
} from "proxy-wasm-as-sdk";

class TraceRoot extends RootContext {
  name: string = "?";
  mode: string = "pass";

  onConfigure(size: u32): bool {
    const parts = getPluginConfigurationString().split(" ");
    if (parts.length != 2) return false;
    this.name = parts[0];
    this.mode = parts[1];
    return true;
  }

  createHttpContext(contextId: u32): HttpContext {
    return new Trace(contextId, this);
  }
}

class Trace extends HttpContext {
  readonly name: string;
  constructor(contextId: u32, readonly trace: TraceRoot) {
    super(contextId, trace);
    this.name = trace.name;
    logInfo(this.name + " create");
  }

  private refuse(): void {
    const headers = new Array<HeaderPair>();
    headers.push(new HeaderPair("x-refused-by", this.name));
    sendLocalResponse(403, "trace_refused", "refused by " + this.name + "\n", headers);
  }

  onRequestHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    const seen = requestHeaders.snapshot().get("x-trace");
    logInfo(this.name + " request_headers sees x-trace=" + (seen === null ? "none" : seen));
    const mode = this.trace.mode;
    if (mode == "reply") {
      this.refuse();
      return FilterHeadersStatus.StopAllIterationAndWatermark;
    }
    if (mode == "pause" || mode == "pause-reply") {
      const headers = new Array<HeaderPair>();
      headers.push(new HeaderPair(":method", "GET"));
      headers.push(new HeaderPair(":path", "/ok"));
      headers.push(new HeaderPair(":authority", "callout"));
      httpCall("callout", headers, null, new Array<HeaderPair>(), 2000, this);
      return FilterHeadersStatus.StopAllIterationAndWatermark;
    }
    requestHeaders.add("x-trace", this.name);
    return FilterHeadersStatus.Continue;
  }

  onHttpCallResponse(token: u32, numHeaders: u32, bodySize: u32, numTrailers: u32): void {
    logInfo(this.name + " callout answered");
    if (this.trace.mode == "pause-reply") {
      this.refuse();
      return;
    }
    requestHeaders.add("x-trace", this.name + "-resumed");
    continueRequest();
    logInfo(this.name + " continued");
  }

  onRequestBody(bodySize: u32, endOfStream: bool): FilterDataStatus {
    if (endOfStream) logInfo(this.name + " request_body end");
    return FilterDataStatus.Continue;
  }

  onResponseHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    logInfo(this.name + " response_headers");
    responseHeaders.add("x-trace", this.name);
    return FilterHeadersStatus.Continue;
  }

  onResponseBody(bodySize: u32, endOfStream: bool): FilterDataStatus {
    if (endOfStream) logInfo(this.name + " response_body end");
    return FilterDataStatus.Continue;
  }

  onLog(): void {
    logInfo(this.name + " log");
  }

  onDone(): bool {
    logInfo(this.name + " done");
    return true;
  }
}

function newTraceRoot(contextId: u32): RootContext {
  return new TraceRoot(contextId);
}

registerRootContext(newTraceRoot, "trace");
registerComposition(new Composition("traces").add("a", newTraceRoot).add("b", newTraceRoot), "traces");
