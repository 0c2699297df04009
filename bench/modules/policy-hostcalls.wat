;; The policy contract's hostcall floor: a proxy-wasm 0.2.1 module that makes the hostcalls the
;; composed policy module (filters/policy) makes for an allowed pull, with constant arguments and no
;; work of its own. On the request: one read of the header map, the clock, the bucket's shared-data
;; read and compare-and-set write, the three identity headers and four counter increments; on the
;; response: RateLimit-Policy and RateLimit. Envoy calls malloc twice per request (for the header
;; map and the shared-data value), as it does for the composed module. Whatever this module costs
;; over floor.wat is what Envoy charges for the contract itself; the composed module's cost over this
;; one is the SDK's and the filters' own work. `npx tsx bench/hostcalls.ts` counts both per request;
;; test/bench/hostcall-floors.test.ts keeps them equal.
(module
  (import "env" "proxy_get_header_map_pairs" (func $pairs (param i32 i32 i32) (result i32)))
  (import "env" "proxy_get_current_time_nanoseconds" (func $now (param i32) (result i32)))
  (import "env" "proxy_get_shared_data" (func $shared_get (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_set_shared_data" (func $shared_set (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_replace_header_map_value" (func $replace (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_define_metric" (func $define (param i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_increment_metric" (func $increment (param i32 i64) (result i32)))
  (memory (export "memory") 2)
  ;; Results the host writes: a buffer's address and size at 512/516, the CAS at 520, the time at
  ;; 528, the four counter ids at 544..556.
  (data (i32.const 1024) "x-hub-user")
  (data (i32.const 1088) "cost-enterprise-0")
  (data (i32.const 1152) "x-hub-plan")
  (data (i32.const 1216) "enterprise")
  (data (i32.const 1280) "x-hub-access")
  (data (i32.const 1344) "repository:bench/app:pull")
  (data (i32.const 1408) "ratelimit-policy")
  (data (i32.const 1472) "\22enterprise\22;q=1000;w=60")
  (data (i32.const 1536) "ratelimit")
  (data (i32.const 1600) "\22enterprise\22;r=999;t=1")
  (data (i32.const 1664) "hostcall_floor_bucket")
  (data (i32.const 1792) "hostcall_floor_a")
  (data (i32.const 1856) "hostcall_floor_b")
  (data (i32.const 1920) "hostcall_floor_c")
  (data (i32.const 1984) "hostcall_floor_d")
  (func (export "proxy_abi_version_0_2_1"))
  ;; Every buffer the host asks for goes to the second page: the module never keeps one across
  ;; hostcalls, and a request's header map or bucket value larger than a page is not a bench request.
  (func $malloc (export "malloc") (param $size i32) (result i32)
    (if (i32.gt_u (local.get $size) (i32.const 65536)) (then unreachable))
    (i32.const 65536))
  (export "proxy_on_memory_allocate" (func $malloc))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_configure") (param i32 i32) (result i32)
    (drop (call $define (i32.const 0) (i32.const 1792) (i32.const 16) (i32.const 544)))
    (drop (call $define (i32.const 0) (i32.const 1856) (i32.const 16) (i32.const 548)))
    (drop (call $define (i32.const 0) (i32.const 1920) (i32.const 16) (i32.const 552)))
    (drop (call $define (i32.const 0) (i32.const 1984) (i32.const 16) (i32.const 556)))
    (i32.const 1))
  (func (export "proxy_on_done") (param i32) (result i32) (i32.const 1))
  (func (export "proxy_on_log") (param i32))
  (func (export "proxy_on_delete") (param i32))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (drop (call $pairs (i32.const 0) (i32.const 512) (i32.const 516)))
    (drop (call $now (i32.const 528)))
    ;; A bucket not stored yet leaves the CAS at 0, which the write then ignores.
    (i32.store (i32.const 520) (i32.const 0))
    (drop (call $shared_get (i32.const 1664) (i32.const 21) (i32.const 512) (i32.const 516) (i32.const 520)))
    (drop (call $shared_set (i32.const 1664) (i32.const 21) (i32.const 528) (i32.const 8) (i32.load (i32.const 520))))
    (drop (call $replace (i32.const 0) (i32.const 1024) (i32.const 10) (i32.const 1088) (i32.const 17)))
    (drop (call $replace (i32.const 0) (i32.const 1152) (i32.const 10) (i32.const 1216) (i32.const 10)))
    (drop (call $replace (i32.const 0) (i32.const 1280) (i32.const 12) (i32.const 1344) (i32.const 25)))
    (drop (call $increment (i32.load (i32.const 544)) (i64.const 1)))
    (drop (call $increment (i32.load (i32.const 548)) (i64.const 1)))
    (drop (call $increment (i32.load (i32.const 552)) (i64.const 1)))
    (drop (call $increment (i32.load (i32.const 556)) (i64.const 1)))
    (i32.const 0))
  (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32)
    (drop (call $replace (i32.const 2) (i32.const 1408) (i32.const 16) (i32.const 1472) (i32.const 24)))
    (drop (call $replace (i32.const 2) (i32.const 1536) (i32.const 9) (i32.const 1600) (i32.const 22)))
    (i32.const 0))
  (func $continue3 (export "proxy_on_request_body") (param i32 i32 i32) (result i32) (i32.const 0))
  (export "proxy_on_response_body" (func $continue3))
  (func $continue2 (export "proxy_on_request_trailers") (param i32 i32) (result i32) (i32.const 0))
  (export "proxy_on_response_trailers" (func $continue2)))
