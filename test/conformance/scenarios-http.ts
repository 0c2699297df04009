// Scenarios on the HTTP stream: headers, flow control, local replies and bodies (proxy-wasm-host.md §6
// items 15–34). Each runs the scripted test filter; its configuration is the script (see
// filters/scripted.ts): "phase: op args; op args", one phase per line, "~" for a space in a value.
import type { Scenario } from "./types.ts";

const scripted = (config: string, extra: Partial<Scenario["filters"][number]> = {}) => [{ module: "scripted", config, ...extra }];

/** HTTP-stream scenarios; plain data, safe to import anywhere. */
export const httpScenarios: Scenario[] = [
  {
    name: "hdr_add_custom",
    covers: "§6.16 add to a custom header makes a second entry; §6.15 keys lowercased",
    filters: scripted("request_headers: add req x-custom two; add req X-Mixed-Case yes\nresponse_headers: add resp x-resp one; add resp x-resp two"),
    requests: [{ path: "/a", headers: [["x-custom", "one"]] }],
    expect: {
      status: [200],
      upstreamHeaders: { "x-custom": "one\ntwo", "x-mixed-case": "yes" },
      responseHeaders: { "x-resp": "one\ntwo" },
      logs: ["add req x-custom -> 0", "add req X-Mixed-Case -> 0", "add resp x-resp -> 0", "add resp x-resp -> 0"],
    },
  },
  {
    name: "hdr_add_inline_join",
    covers: "§6.16 add to an inline header (user-agent, x-forwarded-for) joins with a comma in one entry",
    filters: scripted("request_headers: add req user-agent extra; add req x-forwarded-for 10.0.0.2; get req user-agent"),
    requests: [{ path: "/a", headers: [["user-agent", "client/1"], ["x-forwarded-for", "10.0.0.1"]] }],
    expect: {
      upstreamHeaders: { "user-agent": "client/1,extra", "x-forwarded-for": "10.0.0.1,10.0.0.2" },
      logs: ["add req user-agent -> 0", "add req x-forwarded-for -> 0", "get req user-agent = client/1,extra"],
    },
  },
  {
    name: "hdr_inline_set",
    covers: "§6.16 [I] settled on Envoy 1.40: which request headers are inline (comma-joined on add)",
    filters: scripted(
      "request_headers: add req authorization b; get req authorization; add req accept b; get req accept; add req content-type b; get req content-type; add req referer b; get req referer; add req x-other b; get req x-other",
    ),
    requests: [{ path: "/a", headers: [["authorization", "a"], ["accept", "a"], ["content-type", "a"], ["referer", "a"], ["x-other", "a"]] }],
    expect: {
      logs: ["get req authorization = a,b", "get req accept = a,b", "get req content-type = a,b", "get req referer = a,b", "get req x-other = a"],
    },
  },
  {
    name: "hdr_add_cookie",
    covers: "§6.16 [I] settled: add to cookie does NOT join with '; ' in Envoy 1.40; it makes a second entry",
    filters: scripted("request_headers: add req cookie b=2; get req cookie"),
    requests: [{ path: "/a", headers: [["cookie", "a=1"]] }],
    expect: { upstreamHeaders: { cookie: "a=1\nb=2" }, logs: ["add req cookie -> 0", "get req cookie = a=1"] },
  },
  {
    name: "hdr_replace_remove",
    covers: "§6.15 replace sets one value (adds if absent); remove drops every entry, OK when absent",
    filters: scripted("request_headers: replace req x-rep new; replace req x-fresh made; remove req x-gone; remove req x-never\nresponse_headers: replace resp content-type text/x-replaced; remove resp x-drop"),
    requests: [{ path: "/a", headers: [["x-rep", "old1"], ["x-rep", "old2"], ["x-gone", "1"], ["x-gone", "2"]] }],
    upstream: { headers: [["content-type", "text/plain"], ["x-drop", "1"], ["x-keep", "1"]] },
    expect: {
      upstreamHeaders: { "x-rep": "new", "x-fresh": "made", "x-gone": null },
      responseHeaders: { "content-type": "text/x-replaced", "x-drop": null, "x-keep": "1" },
      logs: ["replace req x-rep -> 0", "replace req x-fresh -> 0", "remove req x-gone -> 0", "remove req x-never -> 0", "replace resp content-type -> 0", "remove resp x-drop -> 0"],
    },
  },
  {
    name: "hdr_get_repeated_missing",
    covers: "§6.15 get of a repeated key returns the first value; §6.17 missing key → NOT_FOUND (1)",
    filters: scripted("request_headers: get req x-rep; get req X-REP; get req x-absent"),
    requests: [{ path: "/a", headers: [["x-rep", "first"], ["x-rep", "second"]] }],
    expect: { logs: ["get req x-rep = first", "get req X-REP = first", "get req x-absent -> 1"] },
  },
  {
    name: "hdr_pairs_order",
    covers: "§6.13 pairs: pseudo-headers first (:authority, :path, :method, :scheme), then insertion order; repeats once per entry",
    filters: scripted("request_headers: remove req x-request-id; pairs req\nresponse_headers: pairs resp"),
    requests: [{ path: "/p?q=1", headers: [["x-b", "2"], ["x-a", "1"], ["x-b", "3"]] }],
    upstream: { headers: [["x-up", "u"], ["content-type", "text/plain"]], body: "" },
    expect: {
      status: [200],
      logs: ["pairs req -> 0 [:authority=conformance.test|:path=/p?q=1|:method=GET|:scheme=http|x-b=2|x-a=1|x-b=3|x-forwarded-proto=http]"],
    },
  },
  {
    name: "hdr_status_replace",
    covers: "§4.4 replacing :status in on_response_headers changes the status sent downstream",
    filters: scripted("response_headers: get resp :status; replace resp :status 202"),
    requests: [{ path: "/a" }],
    expect: { status: [202], logs: ["get resp :status = 200", "replace resp :status -> 0"] },
  },
  {
    name: "hdr_request_after_continue",
    covers: "§6.18 request headers in on_response_headers → get BAD_ARGUMENT (2), pairs empty, add BAD_ARGUMENT",
    filters: scripted("response_headers: get req x-a; pairs req; add req x-late 1"),
    requests: [{ path: "/a", headers: [["x-a", "1"]] }],
    expect: { upstreamHeaders: { "x-late": null }, logs: ["get req x-a -> 2", "pairs req -> 0 []", "add req x-late -> 2"] },
  },
  {
    name: "hdr_size",
    covers: "§6.21 get_header_map_size is Envoy's byteSize (sum of key and value lengths)",
    filters: scripted("request_headers: remove req x-request-id; size req"),
    requests: [{ path: "/abc", headers: [["x-k", "vv"]] }],
    // :authority 10+16, :path 5+4, :method 7+3, :scheme 7+4, x-k 3+2, x-forwarded-proto 17+4
    expect: { status: [200], logs: ["size req = 82 (0)"] },
  },
  {
    name: "log_phase_maps",
    covers: "§6.19 in on_log request headers are readable, mutations → BAD_ARGUMENT; §6.63 on_log, then on_done",
    filters: scripted("log: get req x-a; add req x-b 1; get resp x-up; log info on_log ran\ndone: log info on_done ran"),
    requests: [{ path: "/a", headers: [["x-a", "seen"]] }],
    upstream: { headers: [["x-up", "yes"]] },
    expect: { logs: ["get req x-a = seen", "add req x-b -> 2", "get resp x-up = yes", "on_log ran", "on_done ran"] },
  },
  {
    name: "chain_order",
    covers: "§1.7 two wasm filters: decoders run in chain order, encoders in reverse; each sees the other's changes",
    filters: [
      { module: "scripted", config: "request_headers: add req x-first 1\nresponse_headers: get resp x-second; add resp x-first-resp 1" },
      { module: "scripted", config: "request_headers: get req x-first; add req x-second 2\nresponse_headers: get resp x-first-resp; add resp x-second 2" },
    ],
    requests: [{ path: "/a" }],
    expect: {
      upstreamHeaders: { "x-first": "1", "x-second": "2" },
      responseHeaders: { "x-first-resp": "1", "x-second": "2" },
      logs: ["get req x-first = 1", "get resp x-first-resp -> 1", "get resp x-second = 2"],
    },
  },
  {
    name: "chain_local_reply_first",
    covers: "§6.64 the first filter replies locally: what the second filter sees (encode callbacks, on_log, on_done) without request headers",
    filters: [
      { module: "scripted", config: "request_headers: reply 403 stop~here" },
      { module: "scripted", config: "request_headers: log info f1~request~headers\nresponse_headers: log info f1~response~headers; get resp :status\nlog: log info f1~on_log; get req :path\ndone: log info f1~on_done" },
    ],
    requests: [{ path: "/a" }],
    expect: {
      status: [403],
      upstreamCount: 0,
      responseBody: "stop here",
      logs: ["f1 on_log", "get req :path = /a", "f1 on_done"],
      logsAbsent: ["f1 request headers", "f1 response headers"],
    },
  },
  {
    name: "flow_return_continue_and_end",
    covers: "§6.23 header result 2 (ContinueAndEndStream) maps to Continue",
    filters: scripted("request_headers: return 2"),
    requests: [{ path: "/a" }],
    expect: { status: [200], upstreamCount: 1 },
  },
  {
    name: "flow_stop_then_continue",
    covers: "§6.23/§6.25 StopIteration in request headers, then continue_stream from a callout answer",
    filters: scripted("request_headers: callout callout /ok 5000; return 1\ncallout: add req x-after-callout yes; continue req"),
    requests: [{ path: "/a" }],
    expect: {
      status: [200],
      upstreamCount: 1,
      upstreamHeaders: { "x-after-callout": "yes" },
      logs: ["callout callout /ok -> 0 token=4", 'callout response token=4 headers=7 body=10 status=200 "callout-ok"', "add req x-after-callout -> 0", "continue req -> 0"],
    },
  },
  {
    name: "flow_stop_body_buffered",
    covers: "§6.23 headers StopIteration (allow_on_headers_stop_iteration) with body callbacks; §6.24 buffered body is cumulative",
    filters: scripted("request_headers: return 1\nrequest_body: return 1\nrequest_body_end: body req; return 0", { allowOnHeadersStopIteration: true }),
    requests: [{ method: "POST", path: "/a", body: "hello body" }],
    upstream: { echoBody: true },
    expect: { status: [200], responseBody: "hello body", upstreamBody: "hello body", logs: ['body req len=10 -> 0 "hello body"'] },
  },
  {
    name: "flow_stopall_body_after_continue",
    covers: "§4.2 headers paused with StopAllIteration: no body callback while paused; after continue the buffered body arrives",
    filters: scripted("request_headers: callout callout /ok 5000; return 1\ncallout: continue req\nrequest_body: log info early~chunk\nrequest_body_end: body req"),
    requests: [{ method: "POST", path: "/a", body: "held body" }],
    upstream: { echoBody: true },
    expect: { upstreamBody: "held body", logs: ["continue req -> 0", 'body req len=9 -> 0 "held body"'], logsAbsent: ["early chunk"] },
  },
  {
    name: "stream_close",
    covers: "§6.27 close_stream(request) resets the stream; the upstream is not reached",
    filters: scripted("request_headers: close req; return 1"),
    requests: [{ path: "/a" }],
    expect: { status: [0], upstreamCount: 0, logs: ["close req -> 0"] },
  },
  {
    name: "local_reply_request",
    covers: "§6.30 local reply from request headers: forced Stop, extra headers, content-type/length, own response callbacks fire, upstream not reached",
    filters: scripted("request_headers: reply 403 denied~here x-why=policy,X-Upper=v\nresponse_headers: get resp :status; get resp content-type; get resp x-why\nresponse_body_end: body resp"),
    requests: [{ path: "/a" }],
    expect: {
      status: [403],
      upstreamCount: 0,
      responseBody: "denied here",
      responseHeaders: { "x-why": "policy", "x-upper": "v", "content-type": "text/plain", "content-length": "11" },
      logs: ["reply 403 -> 0", "get resp :status = 403", "get resp content-type = text/plain", "get resp x-why = policy", 'body resp len=11 -> 0 "denied here"'],
    },
  },
  {
    name: "local_reply_response",
    covers: "§6.31 local reply from response headers replaces the upstream answer; no further encode callbacks",
    filters: scripted("response_headers: reply 502 replaced\nresponse_body_end: log info must~not~run"),
    requests: [{ path: "/a" }],
    upstream: { body: "upstream body" },
    expect: { status: [502], upstreamCount: 1, responseBody: "replaced", logs: ["reply 502 -> 0"] },
  },
  {
    name: "local_reply_twice",
    covers: "§6.33 two local replies in one callback: the first wins",
    filters: scripted("request_headers: reply 401 first; reply 402 second"),
    requests: [{ path: "/a" }],
    expect: { status: [401], upstreamCount: 0, responseBody: "first", logs: ["reply 401 -> 0", "reply 402 -> 0"] },
  },
  {
    name: "local_reply_from_callout",
    covers: "§6.34 local reply from on_http_call_response with the stream as effective context",
    filters: scripted("request_headers: callout callout /ok 5000; return 1\ncallout: reply 429 slow~down retry-after=7"),
    requests: [{ path: "/a" }],
    expect: { status: [429], upstreamCount: 0, responseBody: "slow down", responseHeaders: { "retry-after": "7" } },
  },
  {
    name: "body_rewrite_request",
    covers: "§6.24/§C buffered request body replaced before it reaches the upstream",
    // Envoy keeps the client's content-length when a filter rewrites the body, so the upstream would
    // read a truncated body; a rewriting filter removes content-length first (Envoy then re-frames).
    filters: scripted("request_headers: remove req content-length\nrequest_body: return 1\nrequest_body_end: body.replace req rewritten~request; body req"),
    requests: [{ method: "POST", path: "/a", body: "original" }],
    upstream: { echoBody: true },
    expect: { upstreamBody: "rewritten request", responseBody: "rewritten request", logs: ["body.replace req -> 0", 'body req len=17 -> 0 "rewritten request"'] },
  },
  {
    name: "body_rewrite_response",
    covers: "§C response body append and prepend on the buffered body",
    filters: scripted("response_body: return 1\nresponse_body_end: body.prepend resp [; body.append resp ]; body resp"),
    requests: [{ path: "/a" }],
    upstream: { body: "payload" },
    expect: { responseBody: "[payload]", logs: ["body.prepend resp -> 0", "body.append resp -> 0", 'body resp len=9 -> 0 "[payload]"'] },
  },
  {
    name: "body_limit_request",
    covers: "§4.2 [I] settled: buffering a request body past the buffer limit → 413 from Envoy, upstream not reached",
    bufferLimitBytes: 1024,
    filters: scripted("request_body: return 1\nrequest_body_end: return 1"),
    requests: [{ method: "POST", path: "/a", body: "x".repeat(4096) }],
    expect: { status: [413], upstreamCount: 0, responseBody: "Payload Too Large" },
  },
  {
    name: "body_limit_response_held",
    covers: "§4.2 [I] settled: response headers held (StopAll) and the body past the limit → Envoy 1.40 resets the stream (no 500)",
    bufferLimitBytes: 1024,
    filters: scripted("response_headers: return 1\nresponse_body: return 1\nresponse_body_end: return 1"),
    requests: [{ path: "/a" }],
    upstream: { body: "y".repeat(4096) },
    expect: { status: [0], upstreamCount: 1 },
  },
  {
    name: "body_limit_response_sent",
    covers: "§4.2 [I] settled: response headers already sent downstream and the body buffered past the limit → stream reset",
    bufferLimitBytes: 1024,
    filters: scripted("response_body: return 1\nresponse_body_end: return 1"),
    requests: [{ path: "/a" }],
    upstream: { body: "y".repeat(4096) },
    expect: { status: [0], upstreamCount: 1 },
  },
  {
    name: "body_in_headers_phase",
    covers: "§4.2 no current body: get_buffer_bytes → OK empty, set → BAD_ARGUMENT",
    filters: scripted("request_headers: body req; body.append req x"),
    requests: [{ method: "POST", path: "/a", body: "abc" }],
    upstream: { echoBody: true },
    expect: { upstreamBody: "abc" },
  },
];
