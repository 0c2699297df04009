;; The cost floor: a proxy-wasm 0.2.1 module that does nothing. Every stream callback returns
;; Continue (0) and touches no host function, so a request through it pays only Envoy's wasm filter
;; plumbing and V8's call boundary. malloc is a bump allocator over one page: Envoy calls it only
;; when a module asks for a buffer, which this one never does.
(module
  (memory (export "memory") 2)
  (global $next (mut i32) (i32.const 1024))
  (func (export "proxy_abi_version_0_2_1"))
  (func $malloc (export "malloc") (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $next))
    (global.set $next (i32.add (local.get $p) (local.get $size)))
    (local.get $p))
  (export "proxy_on_memory_allocate" (func $malloc))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func $true1 (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 1))
  (export "proxy_on_configure" (func $true1))
  (func (export "proxy_on_done") (param i32) (result i32) (i32.const 1))
  (func (export "proxy_on_log") (param i32))
  (func (export "proxy_on_delete") (param i32))
  (func $continue3 (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (i32.const 0))
  (export "proxy_on_request_body" (func $continue3))
  (export "proxy_on_response_headers" (func $continue3))
  (export "proxy_on_response_body" (func $continue3))
  (func $continue2 (export "proxy_on_request_trailers") (param i32 i32) (result i32) (i32.const 0))
  (export "proxy_on_response_trailers" (func $continue2)))
