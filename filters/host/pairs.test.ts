// The emulator's pair codec against the shared vectors (test/vectors/pairs.ts), which the SDK's
// AssemblyScript codec is tested against too.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { malformedPairs, maxCountPairs, pairVectors } from "../../test/vectors/pairs.ts";
import { parsePairs, serializePairs, toBytePairs, toStringPairs } from "./pairs.ts";

describe("pair codec", () => {
  for (const v of pairVectors) {
    it(`should serialize ${v.name} byte for byte`, () => {
      assert.deepEqual(serializePairs(v.pairs), v.serialized);
    });
    it(`should parse ${v.name} back to the same pairs`, () => {
      assert.deepEqual(parsePairs(v.serialized), v.pairs);
    });
  }

  it("should produce the 29-byte example of proxy-wasm-host.md §3", () => {
    const bytes = serializePairs(toBytePairs([["a", "1"], ["b", "22"]]));
    assert.equal(bytes.length, 29);
    assert.equal(Buffer.from(bytes).toString("hex"), "02000000010000000100000001000000020000006100310062003232" + "00");
  });

  for (const m of malformedPairs) {
    it(`should decode malformed input (${m.name}) to an empty list`, () => {
      assert.deepEqual(parsePairs(m.bytes), []);
    });
  }

  it("should accept exactly 1024 pairs", () => {
    assert.equal(parsePairs(maxCountPairs).length, 1024);
  });

  it("should round-trip arbitrary byte pairs", () => {
    const bytes = fc.uint8Array({ maxLength: 40 });
    fc.assert(
      fc.property(fc.array(fc.tuple(bytes, bytes), { maxLength: 30 }), (pairs) => {
        assert.deepEqual(parsePairs(serializePairs(pairs)), pairs);
      }),
      { numRuns: 300 },
    );
  });

  it("should convert string pairs through UTF-8 and back", () => {
    const pairs: [string, string][] = [["x-name", "grüße ✓"], ["", ""]];
    assert.deepEqual(toStringPairs(parsePairs(serializePairs(toBytePairs(pairs)))), pairs);
  });
});
