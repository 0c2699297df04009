// The SDK's heap allocator (filters/sdk/abi/alloc.ts), through test/sdk/harness/alloc-harness.ts on
// both builds: aligned blocks that never overlap and fit their request, a freed block serving the next
// request of its size (so a repeating pattern never grows memory), realloc keeping the contents, and
// the checks TLSF had: a double free, a foreign pointer and an oversized request abort.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { bothBuilds } from "./builds.ts";
import { MiniHost } from "./mini-host.ts";

type Heap = {
  alloc(size: number): number;
  free(ptr: number): void;
  realloc(ptr: number, size: number): number;
  heapBase(): number;
  staticText(): number;
};

const CRITICAL = 5;

async function load(path: string): Promise<{ host: MiniHost; heap: Heap; bytes(): Uint8Array; words(): Uint32Array }> {
  const host = await MiniHost.load(path, { logLevel: 0 });
  const heap = host.exports as unknown as Heap;
  const memory = host.exports.memory as unknown as WebAssembly.Memory;
  return { host, heap, bytes: () => new Uint8Array(memory.buffer), words: () => new Uint32Array(memory.buffer) };
}

// A fixed pseudo-random sequence (xorshift), so a failure names a reproducible case.
function sizes(count: number, max: number): number[] {
  let x = 0x9e3779b9;
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out.push((x >>> 0) % max);
  }
  return out;
}

for (const build of bothBuilds("build/test-sdk", "alloc-harness")) {
  describe(`heap allocator (${build.label})`, () => {
    it("should give 16-byte-aligned blocks past the static data that fit the request and never overlap", async () => {
      const { heap, bytes, words } = await load(build.path);
      const blocks = sizes(300, 5000).concat([0, 1, 12, 27, 28, 29, 60, 61, 65_536, 200_000]).map((size, i) => {
        const ptr = heap.alloc(size);
        assert.equal(ptr % 16, 0, `block ${i} (${size} bytes) at ${ptr}`);
        assert.ok(ptr >= heap.heapBase(), `block ${i} below the heap`);
        assert.ok((words()[(ptr - 4) / 4] & ~3) >= size, `block ${i} smaller than ${size} bytes`);
        bytes().fill(i & 0xff, ptr, ptr + size);
        return { ptr, size, fill: i & 0xff };
      });
      const sorted = [...blocks].sort((a, b) => a.ptr - b.ptr);
      for (let i = 1; i < sorted.length; i++) assert.ok(sorted[i - 1].ptr + sorted[i - 1].size <= sorted[i].ptr - 4, `blocks at ${sorted[i - 1].ptr} and ${sorted[i].ptr} overlap`);
      for (const b of blocks) assert.ok(bytes().subarray(b.ptr, b.ptr + b.size).every((v) => v === b.fill), `block at ${b.ptr} was overwritten`);
    });

    it("should serve a request from a freed block of its size, so a repeating pattern keeps memory flat", async () => {
      const { host, heap } = await load(build.path);
      const a = heap.alloc(100);
      heap.free(a);
      assert.equal(heap.alloc(100), a);
      const pattern = sizes(50, 3000);
      const round = () => {
        const ptrs = pattern.map((size) => heap.alloc(size));
        for (const p of ptrs.reverse()) heap.free(p);
      };
      round();
      const after = host.memoryBytes();
      for (let i = 0; i < 2000; i++) round();
      assert.equal(host.memoryBytes(), after);
    });

    it("should keep the contents on realloc, in place when the block still fits", async () => {
      const { heap, bytes } = await load(build.path);
      const ptr = heap.alloc(40);
      bytes().set([1, 2, 3, 4, 5], ptr);
      assert.equal(heap.realloc(ptr, 20), ptr);
      const moved = heap.realloc(ptr, 1000);
      assert.notEqual(moved, ptr);
      assert.deepEqual([...bytes().subarray(moved, moved + 5)], [1, 2, 3, 4, 5]);
      // The old block went back to its list.
      assert.equal(heap.alloc(40), ptr);
      // A block in the static data is copied out, never freed.
      const text = heap.staticText();
      const copy = heap.realloc(text, 64);
      assert.ok(copy >= heap.heapBase());
      assert.deepEqual([...bytes().subarray(copy, copy + 4)], [...bytes().subarray(text, text + 4)]);
      heap.free(text);
      assert.notEqual(heap.alloc(10), text);
    });

    for (const [name, act, message] of [
      ["a double free", (heap: Heap) => { const p = heap.alloc(8); heap.free(p); heap.free(p); }, /^abort: \(no message\) at ~lib\/proxy-wasm-as-sdk\/abi\/alloc\.ts\(\d+:\d+\)$/],
      ["a pointer that is no block", (heap: Heap) => heap.free(heap.alloc(64) + 8), /^abort: \(no message\) at ~lib\/proxy-wasm-as-sdk\/abi\/alloc\.ts\(\d+:\d+\)$/],
      ["a request past 1 GiB", (heap: Heap) => heap.alloc(2 ** 30), /^abort: Allocation too large at ~lib\/proxy-wasm-as-sdk\/abi\/alloc\.ts\(\d+:\d+\)$/],
    ] as const) {
      it(`should abort on ${name}`, async () => {
        const { host, heap } = await load(build.path);
        assert.throws(() => act(heap), WebAssembly.RuntimeError);
        assert.equal(host.logs.length, 1, JSON.stringify(host.logs));
        assert.equal(host.logs[0].level, CRITICAL);
        assert.match(host.logs[0].message, message);
        assert.deepEqual(host.exitCodes, [255]);
      });
    }
  });
}
