// add-header: adds configured headers to every request (before it goes upstream) and every response
// (before it goes to the client). Configuration (JSON):
//   {"request": [{"name": "x-a", "value": "1"}], "response": [{"name": "x-b", "value": "2"}]}
// A bad configuration is refused in onConfigure with one log line naming the field, so Envoy rejects it.
// Only headers: the smallest export set (Envoy skips the body and trailer calls for this module).
export * from "proxy-wasm-as-sdk/abi/headers";
import {
  childPath,
  ConfigReader,
  decimal,
  encodeUtf8,
  FilterHeadersStatus,
  getPluginConfigurationString,
  HeaderMap,
  HttpContext,
  JsonArray,
  JsonObject,
  LogLevel,
  logDebug,
  logEnabled,
  logInfo,
  registerRootContext,
  requestHeaders,
  responseHeaders,
  RootContext,
} from "proxy-wasm-as-sdk";
import { TextTable } from "proxy-wasm-as-sdk/texts";

const FILTER = "add-header";
// The filter's fixed texts as one block of UTF-8 (proxy-wasm-as-sdk/texts), in Text's order; lines
// that are joined to other text keep their leading and trailing spaces.
const enum Text {
  BadName,
  BadValue,
  Adding,
  RequestAnd,
  ResponseHeaders,
  Added,
  RequestHeaders,
}
const TEXTS = new TextTable(`expected a header name (letters, digits and !#$%&'*+-.^_\`|~)
header value must not contain CR, LF or NUL
: adding 
 request and 
 response headers
: added 
 request headers`);
const FIELDS = ["request", "response"];
const HEADER_FIELDS = ["name", "value"];

/** HeaderToAdd holds a configured header, encoded once so streams allocate nothing for it. */
class HeaderToAdd {
  constructor(readonly name: ArrayBuffer, readonly value: ArrayBuffer) {}
}

// RFC 9110 token characters (tchar: letters, digits and !#$%&'*+-.^_`|~) as a set of 128 bits, one
// per ASCII code: a symbol string searched per character was data and a loop.
const TCHAR_0_63: u64 = 0x03ff6cfa00000000;
const TCHAR_64_127: u64 = 0x57ffffffc7fffffe;

function isTokenChar(c: i32): bool {
  if (c < 64) return ((TCHAR_0_63 >> <u64>c) & 1) != 0;
  return c < 128 && ((TCHAR_64_127 >> <u64>(c - 64)) & 1) != 0;
}

// Whether the UTF-8 `name` is an RFC 9110 token, lowercasing it in place (a token is ASCII, so any
// other character, in any encoding, is refused); pseudo-headers (":path") and empty names are refused.
function lowerToken(name: ArrayBuffer): bool {
  const at = changetype<usize>(name);
  const n = <usize>name.byteLength;
  if (n == 0) return false;
  for (let i: usize = 0; i < n; i++) {
    const c = <i32>load<u8>(at + i);
    if (!isTokenChar(c)) return false;
    if (c >= 0x41 && c <= 0x5a) store<u8>(at + i, <u8>(c + 0x20));
  }
  return true;
}

// Field values may not carry CR, LF or NUL (header injection).
function isFieldValue(value: string): bool {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c == 0x0d || c == 0x0a || c == 0) return false;
  }
  return true;
}

function readHeaders(cfg: ConfigReader, list: JsonArray | null): Array<HeaderToAdd> {
  const out = new Array<HeaderToAdd>();
  if (list === null) return out;
  for (let i = 0; i < list.items.length; i++) {
    const item = cfg.asObject(unchecked(list.items[i]));
    if (item === null || !cfg.allowOnly(item, HEADER_FIELDS)) return out;
    const name = cfg.requireString(item, "name");
    const value = cfg.requireString(item, "value");
    if (name === null || value === null) return out;
    const nameBytes = encodeUtf8(name);
    if (!lowerToken(nameBytes)) {
      cfg.fail(childPath(item.path, "name"), TEXTS.get(Text.BadName));
      return out;
    }
    if (!isFieldValue(value)) {
      cfg.fail(childPath(item.path, "value"), TEXTS.get(Text.BadValue));
      return out;
    }
    out.push(new HeaderToAdd(nameBytes, encodeUtf8(value)));
  }
  return out;
}

// Adds `headers` to `map`; at debug level logs how many ("added 2 request headers", `which` names them).
function addAll(map: HeaderMap, headers: Array<HeaderToAdd>, which: Text): void {
  for (let i = 0; i < headers.length; i++) {
    const h = unchecked(headers[i]);
    map.addBytes(h.name, h.value);
  }
  if (logEnabled(LogLevel.Debug)) logDebug(FILTER + TEXTS.get(Text.Added) + decimal(headers.length) + TEXTS.get(which));
}

/** AddHeaderRoot parses the configuration and creates one AddHeader per stream. */
class AddHeaderRoot extends RootContext {
  request: Array<HeaderToAdd> = new Array<HeaderToAdd>();
  response: Array<HeaderToAdd> = new Array<HeaderToAdd>();

  /** Implements RootContext.onConfigure. */
  onConfigure(pluginConfigurationSize: u32): bool {
    const cfg = new ConfigReader(FILTER);
    const root: JsonObject | null = cfg.parse(getPluginConfigurationString());
    if (root === null || !cfg.allowOnly(root, FIELDS)) return cfg.finish();
    const request = readHeaders(cfg, cfg.optionalArray(root, "request"));
    const response = readHeaders(cfg, cfg.optionalArray(root, "response"));
    // Keep the previous configuration when the new one is refused (Envoy keeps serving with it).
    if (!cfg.finish()) return false;
    this.request = request;
    this.response = response;
    logInfo(FILTER + TEXTS.get(Text.Adding) + decimal(request.length) + TEXTS.get(Text.RequestAnd) + decimal(response.length) + TEXTS.get(Text.ResponseHeaders));
    return true;
  }

  /** Implements RootContext.createHttpContext. */
  createHttpContext(contextId: u32): HttpContext {
    return new AddHeader(contextId, this);
  }
}

/** AddHeader adds the configured headers to one stream. */
class AddHeader extends HttpContext {
  constructor(contextId: u32, readonly config: AddHeaderRoot) {
    super(contextId, config);
  }

  /** Implements HttpContext.onRequestHeaders. */
  onRequestHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    addAll(requestHeaders, this.config.request, Text.RequestHeaders);
    return FilterHeadersStatus.Continue;
  }

  /** Implements HttpContext.onResponseHeaders. */
  onResponseHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    addAll(responseHeaders, this.config.response, Text.ResponseHeaders);
    return FilterHeadersStatus.Continue;
  }
}

// No root id: with one registration the SDK serves every root id (add_header in the examples) with it.
registerRootContext((contextId: u32): RootContext => new AddHeaderRoot(contextId));
