// Compiles filters/sdk/crypto/test-harness.ts (when stale) and wraps its byte-buffer exports.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
const sourceDir = join(root, "filters/sdk/crypto");
const wasmPath = join(root, "build/test-crypto/harness.wasm");

/** CryptoHarness is the crypto module seen from JavaScript; each call copies bytes in and out. */
export interface CryptoHarness {
  sha256(input: Uint8Array): Uint8Array;
  sha256Chunked(input: Uint8Array, chunk: number): Uint8Array;
  hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array;
  base64UrlEncode(input: Uint8Array): string;
  /** Returns null when the module refuses the text. */
  base64UrlDecode(text: string): Uint8Array | null;
}

function compileIfStale(): void {
  const newestSource = Math.max(...readdirSync(sourceDir).map((n) => statSync(join(sourceDir, n)).mtimeMs));
  if (existsSync(wasmPath) && statSync(wasmPath).mtimeMs >= newestSource) return;
  mkdirSync(join(root, "build/test-crypto"), { recursive: true });
  // Own flags rather than the root asconfig, which asc reads from its working directory: the harness
  // must not depend on the SDK's abort wiring, so asc runs from the output folder.
  const result = spawnSync(
    process.execPath,
    [join(root, "node_modules/assemblyscript/bin/asc.js"), join(sourceDir, "test-harness.ts"), "-O3", "--runtime", "incremental", "--exportStart", "_initialize", "-o", wasmPath],
    { cwd: dirname(wasmPath), encoding: "utf8" },
  );
  if (result.status !== 0) throw new Error(`compiling the crypto harness failed:\n${result.stderr}${result.stdout}`);
}

/** The slice of the WebAssembly JS API used here (tsconfig's libs do not declare the global). */
interface WasmApi {
  instantiate(bytes: Uint8Array, imports: object): Promise<{ instance: { exports: Record<string, unknown> } }>;
}

/** loadCryptoHarness compiles the harness if needed and instantiates it; throws when asc fails. */
export async function loadCryptoHarness(): Promise<CryptoHarness> {
  compileIfStale();
  const abort = (): never => {
    throw new Error("crypto harness aborted");
  };
  const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
  const { instance } = await wasm.instantiate(readFileSync(wasmPath), { env: { abort } });
  const x = instance.exports as Record<string, (...args: number[]) => number> & { memory: { buffer: ArrayBuffer } };
  x._initialize();
  const put = (alloc: string, bytes: Uint8Array): void => {
    const pointer = x[alloc](bytes.length);
    new Uint8Array(x.memory.buffer, pointer, bytes.length).set(bytes);
  };
  const take = (): Uint8Array => new Uint8Array(x.memory.buffer, x.outputPointer(), x.outputLength()).slice();
  return {
    sha256(input) {
      put("allocInput", input);
      x.runSha256();
      return take();
    },
    sha256Chunked(input, chunk) {
      put("allocInput", input);
      x.runSha256Chunked(chunk);
      return take();
    },
    hmacSha256(key, data) {
      put("allocKey", key);
      put("allocInput", data);
      x.runHmac();
      return take();
    },
    base64UrlEncode(input) {
      put("allocInput", input);
      x.runBase64UrlEncode();
      return Buffer.from(take()).toString("utf8");
    },
    base64UrlDecode(text) {
      put("allocInput", new Uint8Array(Buffer.from(text, "utf8")));
      return x.runBase64UrlDecode() === 0 ? null : take();
    },
  };
}
