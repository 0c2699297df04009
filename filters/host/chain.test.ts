// The filter-manager state machine of createChain: order of decoder and encoder filters, local
// replies (through the encoder path, or direct), fail closed/open, buffering, callouts with
// success, reset and timeout, refused configurations and resets (proxy-wasm-host.md §4.2–§4.5).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type ChainFilter, ChainStartError, type UpstreamRequest, createChain } from "./chain.ts";
import { serializePairs, toBytePairs } from "./pairs.ts";
import { recorder, traces } from "./test-support.ts";

const wat = (bytes: Uint8Array) => [...bytes].map((b) => `\\${b.toString(16).padStart(2, "0")}`).join("");
const header = (name: string) => (h: [string, string][]) => h.filter(([k]) => k === name).map(([, v]) => v);

/** An upstream that records what it got and answers 200 "ok". */
function recordingUpstream() {
  const seen: UpstreamRequest[] = [];
  const upstream = (req: UpstreamRequest) => {
    seen.push(req);
    return { status: 200, headers: [["content-type", "text/plain"]] as [string, string][], body: "ok" };
  };
  return { seen, upstream };
}

const sendLocal = (status: number, body: [number, number], headers: [number, number]) =>
  `(drop (call $send_local_response (i32.const ${status}) (i32.const 4096) (i32.const 6) (i32.const ${body[0]}) (i32.const ${body[1]}) (i32.const ${headers[0]}) (i32.const ${headers[1]}) (i32.const -1)))`;
const extraHeaders = serializePairs(toBytePairs([["x-why", "policy"]]));
const denyData: [number, string][] = [[4096, "denied"], [4128, "go away"], [4160, wat(extraHeaders)]];

describe("connection manager response headers", () => {
  it("should give the client one date, server envoy and none of the upstream's hop-by-hop headers", async () => {
    const chain = await createChain({ filters: [{ wasm: recorder(), name: "a", rootId: "a" }] });
    const upstreamHeaders: [string, string][] = [
      ["content-type", "text/plain"], ["date", "Thu, 01 Jan 1970 00:00:00 GMT"], ["connection", "keep-alive"],
      ["keep-alive", "timeout=5"], ["transfer-encoding", "chunked"], ["server", "upstream/1"],
    ];
    const res = await chain.exchange({ path: "/" }, () => ({ status: 200, headers: upstreamHeaders, body: "ok" }));
    const now = new Date(chain.runtime.clock.now()).toUTCString();
    assert.deepEqual(res.headers.filter(([k]) => k !== "x-envoy-upstream-service-time"), [["content-type", "text/plain"], ["date", now], ["server", "envoy"]]);
    await chain.close();
  });
});

describe("connection manager request headers", () => {
  it("should give every request its own version 4 UUID as x-request-id, and keep one the client sent", async () => {
    const chain = await createChain({ filters: [] });
    const { seen, upstream } = recordingUpstream();
    for (let i = 0; i < 300; i++) await chain.exchange({ path: "/" }, upstream);
    await chain.exchange({ path: "/", headers: [["x-request-id", "given"]] }, upstream);
    const ids = seen.map((req) => header("x-request-id")(req.headers));
    assert.ok(ids.slice(0, 300).every((id) => id.length === 1 && /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(id[0])), ids.join(" "));
    assert.equal(new Set(ids.slice(0, 300).map((id) => id[0])).size, 300);
    assert.deepEqual(ids[300], ["given"]);
    await chain.close();
  });
});

describe("chain order and pass-through", () => {
  it("should run decoder filters in order and encoder filters in reverse, then log, done, delete", async () => {
    const chain = await createChain({ filters: [{ wasm: recorder(), name: "a", rootId: "a" }, { wasm: recorder(), name: "b", rootId: "b" }] });
    const { seen, upstream } = recordingUpstream();
    const res = await chain.exchange({ method: "POST", path: "/x", headers: { host: "svc", "user-agent": "t" }, body: "data" }, upstream);
    assert.equal(res.status, 200);
    assert.equal(res.body, "ok");
    assert.equal(seen.length, 1);
    assert.equal(Buffer.from(seen[0].body).toString(), "data");
    assert.deepEqual(seen[0].headers.slice(0, 4), [["host", "svc"], ["user-agent", "t"], ["content-length", "4"], ["x-forwarded-proto", "http"]]);
    assert.deepEqual(header("server")(res.headers), ["envoy"]);
    const order = res.logs.filter((l) => l.source === "wasm").map((l) => `${l.pluginName}:${l.message.split(" ")[0]}`);
    assert.deepEqual(order, [
      "a:proxy_on_context_create", "a:proxy_on_request_headers", "b:proxy_on_context_create", "b:proxy_on_request_headers",
      "a:proxy_on_request_body", "b:proxy_on_request_body", "b:proxy_on_response_headers", "a:proxy_on_response_headers",
      "b:proxy_on_response_body", "a:proxy_on_response_body", "a:proxy_on_log", "b:proxy_on_log",
      "a:proxy_on_done", "a:proxy_on_delete", "b:proxy_on_done", "b:proxy_on_delete",
    ]);
  });

  it("should refuse a chain whose filter rejects its configuration", async () => {
    await assert.rejects(
      createChain({ filters: [{ wasm: recorder({ returns: { proxy_on_configure: 0 } }), name: "bad", pluginConfig: "{" }] }),
      (err: unknown) => err instanceof ChainStartError && err.filter === "bad" && err.failState === "configureFailed" && err.logs.some((l) => l.message === "proxy_on_configure 1 1"),
    );
  });
});

describe("local replies", () => {
  it("should send a request-side reply through the encoder path, including the sender's own response callbacks", async () => {
    const deny: ChainFilter = { wasm: recorder({ data: denyData, extra: { proxy_on_request_headers: sendLocal(403, [4128, 7], [4160, extraHeaders.length]) } }), name: "deny" };
    const chain = await createChain({ filters: [{ wasm: recorder(), name: "first" }, deny, { wasm: recorder(), name: "never" }] });
    const { seen, upstream } = recordingUpstream();
    const res = await chain.exchange({ path: "/" }, upstream);
    assert.equal(res.status, 403);
    assert.equal(res.body, "go away");
    assert.deepEqual(res.headers.slice(0, 3), [["x-why", "policy"], ["content-length", "7"], ["content-type", "text/plain"]]);
    assert.equal(res.localReply?.filter, "deny");
    assert.equal(res.details, "denied");
    assert.equal(seen.length, 0, "the upstream was not reached");
    const calls = res.logs.filter((l) => l.source === "wasm").map((l) => `${l.pluginName}:${l.message.split(" ")[0]}`);
    assert.ok(calls.includes("deny:proxy_on_response_headers") && calls.includes("first:proxy_on_response_headers"));
    assert.ok(!calls.includes("never:proxy_on_request_headers") && !calls.includes("never:proxy_on_response_headers"));
    assert.ok(calls.includes("never:proxy_on_log"), "a filter that saw no request still logs");
  });

  it("should reply directly from on_response_headers, skipping the remaining encoder filters", async () => {
    const deny: ChainFilter = { wasm: recorder({ data: denyData, extra: { proxy_on_response_headers: sendLocal(502, [4128, 7], [0, 0]) } }), name: "late" };
    const chain = await createChain({ filters: [{ wasm: recorder(), name: "outer" }, deny] });
    const { seen, upstream } = recordingUpstream();
    const res = await chain.exchange({ path: "/" }, upstream);
    assert.equal(seen.length, 1);
    assert.equal(res.status, 502);
    assert.equal(res.body, "go away");
    const outer = res.logs.filter((l) => l.pluginName === "outer").map((l) => l.message.split(" ")[0]);
    assert.ok(!outer.includes("proxy_on_response_headers"), "the direct reply bypasses the filter chain");
  });
});

describe("failure policy in a chain", () => {
  const trapping = (failurePolicy: "FAIL_CLOSED" | "FAIL_OPEN"): ChainFilter => ({ wasm: recorder({ extra: { proxy_on_request_headers: "(unreachable)" } }), name: "trap", failurePolicy });

  it("should answer 503 with an empty body and not reach the upstream when failing closed", async () => {
    const chain = await createChain({ filters: [trapping("FAIL_CLOSED")] });
    const { seen, upstream } = recordingUpstream();
    for (let i = 0; i < 2; i++) {
      const res = await chain.exchange({ path: "/" }, upstream);
      assert.equal(res.status, 503);
      assert.equal(res.body, "");
      assert.equal(res.details, "wasm_fail_stream");
    }
    assert.equal(seen.length, 0);
  });

  it("should fail the trapping stream, then pass later requests on when failing open", async () => {
    const chain = await createChain({ filters: [trapping("FAIL_OPEN")] });
    const { seen, upstream } = recordingUpstream();
    const trapped = await chain.exchange({ path: "/" }, upstream);
    assert.equal(trapped.status, 503);
    assert.deepEqual(trapped.headers.filter(([k]) => k.startsWith("content")), [["content-length", "0"]]);
    assert.equal(seen.length, 0);
    assert.equal((await chain.exchange({ path: "/" }, upstream)).status, 200);
    assert.equal((await chain.exchange({ path: "/" }, upstream)).status, 200);
    assert.equal(seen.length, 2);
  });
});

describe("buffering and reset", () => {
  it("should buffer the request body while a filter returns StopIterationAndBuffer", async () => {
    const chain = await createChain({ filters: [{ wasm: recorder({ returns: { proxy_on_request_body: 1 } }), name: "buf" }] });
    const { seen, upstream } = recordingUpstream();
    const res = await chain.exchange({ method: "PUT", path: "/", body: "x".repeat(10) }, upstream);
    // A filter that never returns Continue holds the body: the stream idles out (Envoy's 408).
    assert.equal(res.status, 408);
    assert.equal(res.body, "stream timeout");
    assert.equal(seen.length, 0);
  });

  it("should send 413 when held request data exceeds the buffer limit", async () => {
    const chain = await createChain({ filters: [{ wasm: recorder({ returns: { proxy_on_request_body: 1 } }), name: "buf" }], bufferLimitBytes: 8 });
    const res = await chain.exchange({ method: "PUT", path: "/", body: "x".repeat(10) });
    assert.equal(res.status, 413);
    assert.equal(res.details, "request_payload_too_large");
  });

  it("should reset the stream when held response data exceeds the buffer limit", async () => {
    const chain = await createChain({ filters: [{ wasm: recorder({ returns: { proxy_on_response_body: 1 } }), name: "buf" }], bufferLimitBytes: 8 });
    const res = await chain.exchange({ path: "/" }, () => ({ status: 200, body: "y".repeat(10) }));
    assert.equal(res.reset, "response_payload_too_large");
    assert.equal(res.status, 0);
    assert.equal(res.body, "");
  });

  it("should reset the stream on close_stream", async () => {
    const chain = await createChain({ filters: [{ wasm: recorder({ extra: { proxy_on_request_headers: "(drop (call $close_stream (i32.const 0)))" } }), name: "close" }] });
    const { seen, upstream } = recordingUpstream();
    const res = await chain.exchange({ path: "/" }, upstream);
    assert.equal(res.reset, "wasm_close_stream");
    assert.equal(res.status, 0);
    assert.equal(seen.length, 0);
  });
});

describe("callouts", () => {
  const calloutHeaders = serializePairs(toBytePairs([[":method", "GET"], [":path", "/check"], [":authority", "auth"]]));
  /** The :status values the callout filter logged (wasm log lines that are not traces). */
  const calloutStatuses = (logs: { message: string; source: string }[]): string[] =>
    logs.filter((l) => l.source === "wasm" && /^\d{3}$/.test(l.message)).map((l) => l.message);
  const callout = (timeoutMs: number): ChainFilter => ({
    name: "authz",
    wasm: recorder({
      returns: { proxy_on_request_headers: 1 },
      data: [[4096, "auth"], [4200, wat(calloutHeaders)], [4300, "reset"], [4500, ":status"]],
      extra: {
        proxy_on_request_headers: `(i32.store (i32.const 4400) (local.get 0))
          (drop (call $http_call (i32.const 4096) (i32.const 4) (i32.const 4200) (i32.const ${calloutHeaders.length}) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const ${timeoutMs}) (i32.const 4404)))`,
        // Logs "callout :status <value>" so tests see which status the callout answer carried.
        proxy_on_http_call_response: `(drop (call $set_effective_context (i32.load (i32.const 4400))))
          (if (i32.eqz (call $get_header_map_value (i32.const 6) (i32.const 4500) (i32.const 7) (i32.const 4600) (i32.const 4604)))
            (then (drop (call $log (i32.const 2) (i32.load (i32.const 4600)) (i32.load (i32.const 4604))))))
          (if (i32.eqz (local.get 2))
            (then (drop (call $send_local_response (i32.const 502) (i32.const 4300) (i32.const 5) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const -1))))
            (else (drop (call $continue_stream (i32.const 0)))))`,
      },
    }),
  });

  it("should pause, call the cluster, deliver the answer to the root (token 4) and continue", async () => {
    const asked: string[] = [];
    const chain = await createChain({ filters: [callout(1000)], clusters: { auth: async (req) => (asked.push(req.headers[1][1]), { status: 200, headers: [["x-ok", "1"]] }) } });
    const { seen, upstream } = recordingUpstream();
    const res = await chain.exchange({ path: "/" }, upstream);
    assert.equal(res.status, 200);
    assert.deepEqual(asked, ["/check"]);
    assert.equal(seen.length, 1);
    assert.ok(traces(res.logs).includes("proxy_on_http_call_response 4 3"), "token 4; :status, x-ok and the router's service time");
    assert.deepEqual(calloutStatuses(res.logs), ["200"]);
  });

  it("should deliver a reset as the router's 503, a failure as (0,0,0) and a timeout as a 504", async () => {
    const reset = await createChain({ filters: [callout(1000)], clusters: { auth: () => ({ reset: true }) } });
    const res = await reset.exchange({ path: "/" });
    assert.equal(res.status, 200, "a 503 response has headers, so the filter continues");
    assert.ok(traces(res.logs).includes("proxy_on_http_call_response 4 3"));
    assert.deepEqual(calloutStatuses(res.logs), ["503"], "the router's 503 reached the filter");

    const failed = await createChain({ filters: [callout(1000)], clusters: { auth: () => ({ failure: true }) } });
    const failure = await failed.exchange({ path: "/" });
    assert.equal(failure.status, 502);
    assert.equal(failure.details, "reset");
    assert.ok(traces(failure.logs).includes("proxy_on_http_call_response 4 0"));

    const slow = await createChain({ filters: [callout(50)], clusters: { auth: () => new Promise((resolve) => setTimeout(() => resolve({ status: 200 }), 1000)) } });
    const { seen, upstream } = recordingUpstream();
    const timedOut = await slow.exchange({ path: "/" }, upstream);
    assert.equal(timedOut.status, 200, "the 504 callout answer has headers, so the filter continues");
    assert.ok(traces(timedOut.logs).includes("proxy_on_http_call_response 4 3"), "504 with content-length and content-type");
    assert.deepEqual(calloutStatuses(timedOut.logs), ["504"], "the router's 504 reached the filter");
    assert.equal(seen.length, 1);
  });

  it("should let the test answer a callout to a cluster without handler", async () => {
    const chain = await createChain({ filters: [callout(0)], clusters: { auth: null } });
    const pending = chain.exchange({ path: "/" });
    for (let i = 0; i < 200 && chain.getCallouts().length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    const [call] = chain.getCallouts();
    assert.deepEqual([call.filter, call.token, call.cluster], ["authz", 4, "auth"]);
    chain.respondCallout("authz", call.token, { failure: true });
    assert.equal((await pending).status, 502);
  });
});
