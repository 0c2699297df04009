// Test module for what a newcomer tripped on:
//   root "utf8":   onRequestHeaders reads `x-raw` with get() and getBytes() and reports what it saw in
//                  request headers: x-decoded (get(), lossy), x-valid (isValidUtf8), x-length (bytes),
//                  and x-echo (the bytes added back unchanged with addBytes).
//   root "config": onConfigure reads {"limit": 1..1000 (required), "mode": "allow"|"deny" (required),
//                  "log": "quiet"|"loud" (optional, default "quiet")} and logs what it read.
export * from "proxy-wasm-as-sdk/abi/exports";
import {
  ConfigReader,
  FilterHeadersStatus,
  getPluginConfigurationString,
  HttpContext,
  isValidUtf8,
  logInfo,
  registerRootContext,
  requestHeaders,
  RootContext,
} from "proxy-wasm-as-sdk";

class Utf8Root extends RootContext {
  createHttpContext(contextId: u32): HttpContext {
    return new Utf8Stream(contextId, this);
  }
}

class Utf8Stream extends HttpContext {
  onRequestHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    const text = requestHeaders.get("x-raw");
    const bytes = requestHeaders.getBytes("x-raw");
    if (text === null || bytes === null) return FilterHeadersStatus.Continue;
    requestHeaders.add("x-decoded", text);
    requestHeaders.add("x-valid", isValidUtf8(bytes) ? "true" : "false");
    requestHeaders.add("x-length", bytes.byteLength.toString());
    requestHeaders.addBytes(String.UTF8.encode("x-echo"), bytes);
    return FilterHeadersStatus.Continue;
  }
}

class ConfigRoot extends RootContext {
  onConfigure(configurationSize: u32): bool {
    const cfg = new ConfigReader("config-test");
    const root = cfg.parse(getPluginConfigurationString());
    if (root === null || !cfg.allowOnly(root, ["limit", "mode", "log"])) return cfg.finish();
    const limit = cfg.requireInteger(root, "limit", 1, 1000);
    const mode = cfg.requireOneOf(root, "mode", ["allow", "deny"]);
    const log = cfg.optionalOneOf(root, "log", ["quiet", "loud"], "quiet");
    if (!cfg.finish()) return false;
    logInfo("config-test: limit=" + limit.toString() + " mode=" + mode! + " log=" + log);
    return true;
  }
}

registerRootContext((id: u32): RootContext => new Utf8Root(id), "utf8");
registerRootContext((id: u32): RootContext => new ConfigRoot(id), "config");
