// __NAME__: adds a configured header to every response, and answers 403 itself for requests under a
// configured path prefix. Configuration (config.json):
//   {"header": "x-hello", "value": "world", "blockedPath": "/admin"}
// A bad configuration is refused in onConfigure with one critical log line naming the field, so
// Envoy refuses it too.
export * from "proxy-wasm-as-sdk/abi/http"; // the callbacks Envoy calls for an HTTP filter (proxy_on_*, malloc): keep this line; abi/exports adds TCP and gRPC
import {
  ConfigReader,
  Counter,
  FilterHeadersStatus,
  getPluginConfigurationString,
  HttpContext,
  logInfo,
  registerRootContext,
  requestHeaders,
  responseHeaders,
  RootContext,
  sendLocalResponse,
} from "proxy-wasm-as-sdk";

const NAME = "__NAME__";
// Metrics are defined on first use, so they may be created at top level (where Envoy allows no hostcalls).
const responses = new Counter(NAME + ".responses");
const blocked = new Counter(NAME + ".blocked");

/** The plugin's root context: reads the configuration once, creates one Stream per request. */
class Root extends RootContext {
  header: string = "";
  value: string = "";
  blockedPath: string = "";

  onConfigure(configurationSize: u32): bool {
    const cfg = new ConfigReader(NAME);
    const root = cfg.parse(getPluginConfigurationString());
    if (root === null || !cfg.allowOnly(root, ["header", "value", "blockedPath"])) return cfg.finish();
    const header = cfg.requireString(root, "header");
    const value = cfg.requireString(root, "value");
    const blockedPath = cfg.optionalString(root, "blockedPath", "");
    if (!cfg.finish()) return false; // logged "__NAME__: config.<field>: <problem>"; Envoy refuses the config
    this.header = header!.toLowerCase();
    this.value = value!;
    this.blockedPath = blockedPath;
    logInfo(NAME + ": adding " + this.header + ": " + this.value);
    return true;
  }

  createHttpContext(contextId: u32): HttpContext {
    return new Stream(contextId, this);
  }
}

/** One request/response: override only the callbacks you need (the others continue). */
class Stream extends HttpContext {
  constructor(contextId: u32, readonly config: Root) {
    super(contextId, config);
  }

  onRequestHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    const path = requestHeaders.get(":path");
    if (this.config.blockedPath.length > 0 && path !== null && path.startsWith(this.config.blockedPath)) {
      blocked.increment(1);
      sendLocalResponse(403, NAME + "_blocked", "blocked by " + NAME + "\n", []);
      return FilterHeadersStatus.StopAllIterationAndWatermark; // after a local reply, always stop
    }
    return FilterHeadersStatus.Continue;
  }

  onResponseHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    responseHeaders.add(this.config.header, this.config.value);
    responses.increment(1);
    return FilterHeadersStatus.Continue;
  }
}

registerRootContext((contextId: u32): RootContext => new Root(contextId), NAME);
