// The SDK's header-pair codec against the shared vectors of test/vectors/pairs.ts (the emulator's codec
// is tested against the same bytes, so the two cannot disagree).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { malformedPairs, maxCountPairs, pairVectors, type PairList } from "../vectors/pairs.ts";
import { bothBuilds } from "./builds.ts";
import { MiniHost } from "./mini-host.ts";

type Codec = Record<string, (...args: number[]) => number>;

function memory(host: MiniHost): Uint8Array {
  return new Uint8Array((host.exports.memory as unknown as WebAssembly.Memory).buffer);
}

function put(host: MiniHost, bytes: Uint8Array): number {
  // malloc'd input is never freed here: the harness copies it and each test loads a fresh instance.
  const ptr = host.exports.malloc(Math.max(bytes.length, 1));
  memory(host).set(bytes, ptr);
  return ptr;
}

function decode(host: MiniHost, bytes: Uint8Array): PairList | null {
  const c: Codec = host.exports;
  const n = c.decode(put(host, bytes), bytes.length);
  if (n < 0) return null;
  const out: PairList = [];
  for (let i = 0; i < n; i++) {
    const mem = memory(host);
    out.push([mem.slice(c.keyPtr(i), c.keyPtr(i) + c.keyLen(i)), mem.slice(c.valuePtr(i), c.valuePtr(i) + c.valueLen(i))]);
  }
  return out;
}

function encode(host: MiniHost, pairs: PairList): Uint8Array {
  const c: Codec = host.exports;
  c.encodeReset();
  for (const [k, v] of pairs) c.encodeAdd(put(host, k), k.length, put(host, v), v.length);
  const size = c.encodeFinish();
  return memory(host).slice(c.encodedPtr(), c.encodedPtr() + size);
}

for (const build of bothBuilds("build/test-sdk", "pairs-harness")) {
  describe(`SDK pair codec (${build.label})`, () => {
    for (const vector of pairVectors) {
      it(`should encode ${vector.name} to the shared bytes`, async () => {
        const host = await MiniHost.load(build.path);
        assert.deepEqual(encode(host, vector.pairs), vector.serialized);
      });

      it(`should decode ${vector.name} from the shared bytes`, async () => {
        const host = await MiniHost.load(build.path);
        const decoded = decode(host, vector.serialized);
        assert.ok(decoded, "decoder refused a well-formed vector");
        assert.equal(decoded.length, vector.pairs.length);
        assert.deepEqual(decoded, vector.pairs);
      });
    }

    for (const bad of malformedPairs.filter((m) => !m.hostLimit)) {
      it(`should refuse malformed input: ${bad.name}`, async () => {
        const host = await MiniHost.load(build.path);
        const decoded = decode(host, bad.bytes);
        // The guest reports malformed host output as null; under 4 bytes is Envoy's empty map.
        if (bad.bytes.length < 4) assert.deepEqual(decoded, []);
        else assert.equal(decoded, null);
      });
    }

    it("should decode the 1,024-pair maximum without trapping", async () => {
      const host = await MiniHost.load(build.path);
      const decoded = decode(host, maxCountPairs);
      assert.ok(decoded);
      assert.equal(decoded.length, 1024);
      assert.ok(decoded.every(([k, v]) => k.length === 0 && v.length === 0));
    });
  });
}
