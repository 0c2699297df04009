// A test filter whose behaviour is data: the plugin configuration is a script, one line per callback,
// "phase: op arg arg; op arg". Every op logs what it did and what the host answered, so a scenario's
// log lines are the record the emulator and Envoy are compared on. "~" in a token stands for a space.
//
// Phases: configure, request_headers, request_body (chunks before the last), request_body_end,
// response_headers, response_body, response_body_end, log, done, tick, callout (the HTTP-call answer, with
// the calling stream as effective context), refuse (on_configure logs the line and returns false).
// Ops (MAP = req | resp | callout, BUF likewise): return N; log LEVEL TEXT; get/add/replace/remove MAP
// KEY [VALUE]; pairs MAP; size MAP; body BUF; body.replace|append|prepend BUF TEXT; prop a.b.c
// [int|hex]; setprop NAME VALUE; reply STATUS BODY|- [k=v,k=v]; continue req|resp; close req|resp;
// counter NAME N; gauge NAME N; shared.get|value KEY; shared.set KEY VALUE CAS|last; shared.incr KEY;
// tick MS; callout CLUSTER PATH TIMEOUT_MS; loglevel; trap; abort.
export * from "proxy-wasm-as-sdk/abi/exports";
import {
  Counter,
  FilterDataStatus,
  FilterHeadersStatus,
  Gauge,
  HeaderMap,
  HeaderPair,
  HttpContext,
  LogLevel,
  RootContext,
  StreamType,
  WasmResult,
  closeStream,
  continueStream,
  getPluginConfigurationString,
  getProperty,
  getSharedData,
  httpCall,
  httpCallResponseBody,
  httpCallResponseHeaders,
  lastResult,
  log,
  logLevel,
  registerRootContext,
  requestBody,
  requestHeaders,
  responseBody,
  responseHeaders,
  sendLocalResponse,
  setPropertyString,
  setSharedData,
  setTickPeriod,
  getStatus,
  Buffer,
} from "proxy-wasm-as-sdk";

type Script = Map<string, Array<Array<string>>>;

function parseScript(text: string): Script {
  const script = new Map<string, Array<Array<string>>>();
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line.length == 0) continue;
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const phase = line.substring(0, colon).trim();
    const ops = new Array<Array<string>>();
    const parts = line.substring(colon + 1).split(";");
    for (let j = 0; j < parts.length; j++) {
      const words = parts[j].trim().split(" ");
      const op = new Array<string>();
      for (let k = 0; k < words.length; k++) if (words[k].length > 0) op.push(words[k].replaceAll("~", " "));
      if (op.length > 0) ops.push(op);
    }
    script.set(phase, ops);
  }
  return script;
}

function mapOf(name: string): HeaderMap {
  if (name == "req") return requestHeaders;
  if (name == "resp") return responseHeaders;
  return httpCallResponseHeaders;
}

function bufferOf(name: string): Buffer {
  if (name == "req") return requestBody;
  if (name == "resp") return responseBody;
  return httpCallResponseBody;
}

function levelOf(name: string): LogLevel {
  if (name == "trace") return LogLevel.Trace;
  if (name == "debug") return LogLevel.Debug;
  if (name == "warn") return LogLevel.Warn;
  if (name == "error") return LogLevel.Error;
  if (name == "critical") return LogLevel.Critical;
  return LogLevel.Info;
}

function rest(op: Array<string>, from: i32): string {
  return op.slice(from).join(" ");
}

function hex(bytes: ArrayBuffer): string {
  const view = Uint8Array.wrap(bytes);
  let out = "";
  for (let i = 0; i < view.length; i++) out += (view[i] < 16 ? "0" : "") + view[i].toString(16);
  return out;
}

function say(text: string): void {
  log(LogLevel.Info, text);
}

/** Outcome of running a phase: the callback's return value (the "return" op), -1 when none was given. */
class Outcome {
  ret: i32 = -1;
}

let configuredScript: Script = new Map<string, Array<Array<string>>>();

/** run executes one phase's ops; `ctx` is the stream (null in root callbacks). */
function run(phase: string, ctx: ScriptedStream | null): Outcome {
  const out = new Outcome();
  if (!configuredScript.has(phase)) return out;
  const ops = configuredScript.get(phase);
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i];
    const name = op[0];
    if (name == "return") out.ret = I32.parseInt(op[1]);
    else if (name == "log") log(levelOf(op[1]), rest(op, 2));
    else if (name == "get") {
      const v = mapOf(op[1]).get(op[2]);
      say(v === null ? `get ${op[1]} ${op[2]} -> ${lastResult()}` : `get ${op[1]} ${op[2]} = ${v}`);
    } else if (name == "add") say(`add ${op[1]} ${op[2]} -> ${mapOf(op[1]).add(op[2], rest(op, 3))}`);
    else if (name == "replace") say(`replace ${op[1]} ${op[2]} -> ${mapOf(op[1]).replace(op[2], rest(op, 3))}`);
    else if (name == "remove") say(`remove ${op[1]} ${op[2]} -> ${mapOf(op[1]).remove(op[2])}`);
    else if (name == "pairs") {
      const all = mapOf(op[1]).pairs();
      const shown = new Array<string>();
      for (let j = 0; j < all.length; j++) shown.push(all[j].name + "=" + all[j].value);
      say(`pairs ${op[1]} -> ${lastResult()} [${shown.join("|")}]`);
    } else if (name == "size") say(`size ${op[1]} = ${mapOf(op[1]).byteSize()} (${lastResult()})`);
    else if (name == "body") {
      const b = bufferOf(op[1]);
      const len = b.length();
      const s = b.readString();
      say(`body ${op[1]} len=${len} -> ${lastResult()} "${s === null ? "" : s}"`);
    } else if (name == "body.replace") say(`body.replace ${op[1]} -> ${bufferOf(op[1]).replaceString(rest(op, 2))}`);
    else if (name == "body.append") say(`body.append ${op[1]} -> ${bufferOf(op[1]).appendString(rest(op, 2))}`);
    else if (name == "body.prepend") say(`body.prepend ${op[1]} -> ${bufferOf(op[1]).prependString(rest(op, 2))}`);
    else if (name == "prop") {
      const v = getProperty(op[1].split("."));
      const shown = v === null ? "" : op.length > 2 && op[2] == "int" ? (v.byteLength == 8 ? load<i64>(changetype<usize>(v)).toString() : "len" + v.byteLength.toString()) : op.length > 2 && op[2] == "hex" ? hex(v) : String.UTF8.decode(v);
      say(`prop ${op[1]} -> ${lastResult()} ${shown}`);
    } else if (name == "setprop") say(`setprop ${op[1]} -> ${setPropertyString(op[1].split("."), rest(op, 2))}`);
    else if (name == "reply") {
      const headers = new Array<HeaderPair>();
      if (op.length > 3) {
        const kvs = op[3].split(",");
        for (let j = 0; j < kvs.length; j++) {
          const eq = kvs[j].indexOf("=");
          if (eq > 0) headers.push(new HeaderPair(kvs[j].substring(0, eq), kvs[j].substring(eq + 1)));
        }
      }
      const body = op.length > 2 && op[2] != "-" ? op[2] : "";
      say(`reply ${op[1]} -> ${sendLocalResponse(<u32>I32.parseInt(op[1]), "scripted reply", body, headers)}`);
    } else if (name == "continue") say(`continue ${op[1]} -> ${continueStream(op[1] == "req" ? StreamType.HttpRequest : StreamType.HttpResponse)}`);
    else if (name == "close") say(`close ${op[1]} -> ${closeStream(op[1] == "req" ? StreamType.HttpRequest : StreamType.HttpResponse)}`);
    else if (name == "counter") {
      const c = new Counter(op[1]);
      const r = c.increment(I64.parseInt(op[2]));
      say(`counter ${op[1]} +${op[2]} -> ${r} = ${c.get()}`);
    } else if (name == "gauge") {
      const g = new Gauge(op[1]);
      const r = g.add(I64.parseInt(op[2]));
      say(`gauge ${op[1]} ${op[2]} -> ${r} = ${<i64>g.get()}`);
    } else if (name == "shared.get") {
      const d = getSharedData(op[1]);
      say(d === null ? `shared.get ${op[1]} -> ${lastResult()}` : `shared.get ${op[1]} = ${String.UTF8.decode(d.value)} cas=${d.cas}`);
    } else if (name == "shared.value") {
      // The value only: cas numbers are process-wide in Envoy, so they depend on every earlier set.
      const d = getSharedData(op[1]);
      say(d === null ? `shared.value ${op[1]} -> ${lastResult()}` : `shared.value ${op[1]} = ${String.UTF8.decode(d.value)}`);
    } else if (name == "shared.set") {
      // "last" reuses the cas of this stream's previous shared.get, so a script can do read-modify-write.
      const cas: u32 = op[3] == "last" ? (ctx === null ? 0 : ctx.lastCas) : <u32>U32.parseInt(op[3]);
      say(`shared.set ${op[1]} ${op[2]} cas=${op[3]} -> ${setSharedData(op[1], String.UTF8.encode(op[2]), cas)}`);
    } else if (name == "shared.incr") {
      // Read-modify-write of a counter kept as text; under --concurrency 2 both workers race on it.
      const d = getSharedData(op[1]);
      const n = d === null ? 0 : I32.parseInt(String.UTF8.decode(d.value));
      const cas = d === null ? 0 : d.cas;
      if (ctx !== null) ctx.lastCas = cas;
      say(`shared.incr ${op[1]} ${n} -> ${setSharedData(op[1], String.UTF8.encode((n + 1).toString()), cas)}`);
    } else if (name == "tick") say(`tick ${op[1]} -> ${setTickPeriod(<u32>U32.parseInt(op[1]))}`);
    else if (name == "callout") {
      const headers = new Array<HeaderPair>();
      headers.push(new HeaderPair(":method", "GET"));
      headers.push(new HeaderPair(":path", op[2]));
      headers.push(new HeaderPair(":authority", "callout"));
      const handler: ScriptedStream | null = ctx;
      const token = handler === null ? 0 : httpCall(op[1], headers, null, new Array<HeaderPair>(), <u32>U32.parseInt(op[3]), handler);
      say(`callout ${op[1]} ${op[2]} -> ${lastResult()} token=${token}`);
    } else if (name == "loglevel") say(`loglevel = ${logLevel()}`);
    else if (name == "trap") unreachable();
    else if (name == "abort") throw new Error("scripted abort");
    else say(`unknown op ${name}`);
  }
  return out;
}

class ScriptedRoot extends RootContext {
  onConfigure(size: u32): bool {
    const text = getPluginConfigurationString();
    configuredScript = parseScript(text);
    run("configure", null);
    if (configuredScript.has("refuse")) {
      log(LogLevel.Error, "scripted: configuration refused: " + rest(configuredScript.get("refuse")[0], 0));
      return false;
    }
    return true;
  }
  onTick(): void {
    run("tick", null);
  }
  createHttpContext(contextId: u32): HttpContext {
    return new ScriptedStream(contextId, this);
  }
}

class ScriptedStream extends HttpContext {
  lastCas: u32 = 0;
  onRequestHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    const o = run("request_headers", this);
    return o.ret < 0 ? FilterHeadersStatus.Continue : <FilterHeadersStatus>o.ret;
  }
  onRequestBody(bodySize: u32, endOfStream: bool): FilterDataStatus {
    const o = run(endOfStream ? "request_body_end" : "request_body", this);
    if (endOfStream && !configuredScript.has("request_body_end")) return FilterDataStatus.Continue;
    return o.ret < 0 ? FilterDataStatus.Continue : <FilterDataStatus>o.ret;
  }
  onResponseHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    const o = run("response_headers", this);
    return o.ret < 0 ? FilterHeadersStatus.Continue : <FilterHeadersStatus>o.ret;
  }
  onResponseBody(bodySize: u32, endOfStream: bool): FilterDataStatus {
    const o = run(endOfStream ? "response_body_end" : "response_body", this);
    if (endOfStream && !configuredScript.has("response_body_end")) return FilterDataStatus.Continue;
    return o.ret < 0 ? FilterDataStatus.Continue : <FilterDataStatus>o.ret;
  }
  onLog(): void {
    run("log", this);
  }
  onDone(): bool {
    run("done", this);
    return true;
  }
  onHttpCallResponse(token: u32, numHeaders: u32, bodySize: u32, numTrailers: u32): void {
    const status = httpCallResponseHeaders.get(":status");
    const body = httpCallResponseBody.readString();
    let line = `callout response token=${token} headers=${numHeaders} body=${bodySize} status=${status === null ? "none" : status} "${body === null ? "" : body}"`;
    if (numHeaders == 0) {
      const s = getStatus();
      if (s !== null) line += ` host_status=${s.code} ${s.message}`;
    }
    say(line);
    run("callout", this);
  }
}

registerRootContext((id: u32): RootContext => new ScriptedRoot(id), "");
