;; add-header's hostcall floor: a proxy-wasm 0.2.1 module that makes the hostcalls add-header makes
;; per request with its config.example.json (two request headers added, one response header added),
;; with constant arguments and no work of its own, and exports the same callbacks as add-header (the
;; SDK's abi/headers set, so Envoy skips body and trailer calls for both). What it costs over
;; floor.wat is what Envoy charges for the three writes; add-header's cost over it is the SDK's and
;; the filter's own work. test/bench/hostcall-floors.test.ts keeps its crossings equal to add-header's.
(module
  (import "env" "proxy_add_header_map_value" (func $add (param i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 1024) "x-request-source")
  (data (i32.const 1088) "envoy-wasm")
  (data (i32.const 1152) "x-tenant")
  (data (i32.const 1216) "demo")
  (data (i32.const 1280) "x-powered-by")
  (data (i32.const 1344) "add-header.wasm")
  (func (export "proxy_abi_version_0_2_1"))
  ;; Envoy asks for a buffer only when a module reads one, which this module never does.
  (func $malloc (export "malloc") (param i32) (result i32) (unreachable))
  (export "proxy_on_memory_allocate" (func $malloc))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_configure") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_done") (param i32) (result i32) (i32.const 1))
  (func (export "proxy_on_log") (param i32))
  (func (export "proxy_on_delete") (param i32))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (drop (call $add (i32.const 0) (i32.const 1024) (i32.const 16) (i32.const 1088) (i32.const 10)))
    (drop (call $add (i32.const 0) (i32.const 1152) (i32.const 8) (i32.const 1216) (i32.const 4)))
    (i32.const 0))
  (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32)
    (drop (call $add (i32.const 2) (i32.const 1280) (i32.const 12) (i32.const 1344) (i32.const 15)))
    (i32.const 0)))
