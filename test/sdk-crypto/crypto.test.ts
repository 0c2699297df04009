// The SDK's AssemblyScript SHA-256, HMAC-SHA256 and base64url, checked against published vectors
// (FIPS 180-4 examples, RFC 4231) and against node:crypto on random inputs.
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import fc from "fast-check";
import { loadCryptoHarness, type CryptoHarness } from "./harness.ts";

let harness: CryptoHarness;
before(async () => {
  harness = await loadCryptoHarness();
});

// A fixed regression seed, or FUZZ_SEED to replay or explore (fast-check prints the seed on failure);
// runs are bounded by count only, so a loaded machine never silently shortens them.
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : 20261204;

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");
const ascii = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, "latin1"));
const repeat = (byte: number, count: number): Uint8Array => new Uint8Array(count).fill(byte);

describe("sha256", () => {
  // FIPS 180-4 / NIST CSRC example values (SHA256.pdf, SHA2_Additional.pdf).
  const vectors: [string, Uint8Array, string][] = [
    ["empty", new Uint8Array(0), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
    ["abc", ascii("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
    [
      "two-block message",
      ascii("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    ],
    ["one million 'a'", repeat(0x61, 1_000_000), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"],
  ];
  for (const [name, input, expected] of vectors) {
    it(`should match the FIPS 180-4 vector: ${name}`, () => {
      assert.equal(hex(harness.sha256(input)), expected);
    });
  }

  it("should give the same digest when the input arrives in chunks of any size", () => {
    const input = new Uint8Array(333).map((_, i) => (i * 7) & 0xff);
    const expected = createHash("sha256").update(input).digest("hex");
    for (const chunk of [1, 3, 55, 56, 63, 64, 65, 128, 400]) {
      assert.equal(hex(harness.sha256Chunked(input, chunk)), expected, `chunk ${chunk}`);
    }
  });

  it("should agree with node:crypto on random inputs around the padding boundaries", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), (input) => {
        assert.equal(hex(harness.sha256(input)), createHash("sha256").update(input).digest("hex"));
      }),
      { numRuns: 300, seed: SEED },
    );
  });
});

describe("hmacSha256", () => {
  // RFC 4231 §4.2–§4.8 (test case 5 is truncated to 128 bits by the RFC).
  const key4 = new Uint8Array(25).map((_, i) => i + 1);
  const vectors: [string, Uint8Array, Uint8Array, string][] = [
    ["case 1", repeat(0x0b, 20), ascii("Hi There"), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"],
    ["case 2", ascii("Jefe"), ascii("what do ya want for nothing?"), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"],
    ["case 3", repeat(0xaa, 20), repeat(0xdd, 50), "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"],
    ["case 4", key4, repeat(0xcd, 50), "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"],
    ["case 5 (truncated)", repeat(0x0c, 20), ascii("Test With Truncation"), "a3b6167473100ee06e0c796c2955552b"],
    [
      "case 6",
      repeat(0xaa, 131),
      ascii("Test Using Larger Than Block-Size Key - Hash Key First"),
      "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
    ],
    [
      "case 7",
      repeat(0xaa, 131),
      ascii(
        "This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.",
      ),
      "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
    ],
  ];
  for (const [name, key, data, expected] of vectors) {
    it(`should match RFC 4231 ${name}`, () => {
      assert.equal(hex(harness.hmacSha256(key, data)).slice(0, expected.length), expected);
    });
  }

  it("should agree with node:crypto for random keys (including longer than a block) and messages", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 150 }), fc.uint8Array({ maxLength: 300 }), (key, data) => {
        assert.equal(hex(harness.hmacSha256(key, data)), createHmac("sha256", key).update(data).digest("hex"));
      }),
      { numRuns: 300, seed: SEED },
    );
  });
});

describe("base64url", () => {
  it("should encode like Buffer's base64url (unpadded) for random bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (input) => {
        const encoded = harness.base64UrlEncode(input);
        assert.equal(encoded, Buffer.from(input).toString("base64url"));
        assert.deepEqual(harness.base64UrlDecode(encoded), input);
      }),
      { numRuns: 300, seed: SEED },
    );
  });

  it("should decode the RFC 7515 example header", () => {
    const decoded = harness.base64UrlDecode("eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9");
    assert.equal(Buffer.from(decoded!).toString("utf8"), '{"typ":"JWT",\r\n "alg":"HS256"}');
  });

  const refused: [string, string][] = [
    ["padding", "YQ=="],
    ["standard alphabet '+'", "a+b/"],
    ["impossible length", "abcde"],
    ["non-zero leftover bits", "YR"],
    ["non-zero leftover bits, three characters", "YWF"],
    ["whitespace", "YW E"],
    ["a dot", "YW.E"],
    ["non-ASCII", "YWé"],
  ];
  for (const [name, text] of refused) {
    it(`should refuse ${name}: ${JSON.stringify(text)}`, () => {
      assert.equal(harness.base64UrlDecode(text), null);
    });
  }

  it("should accept the empty string as zero bytes", () => {
    assert.deepEqual(harness.base64UrlDecode(""), new Uint8Array(0));
  });
});
