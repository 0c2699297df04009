// The SDK's context bookkeeping under load: thousands of live contexts with ids that are sequential,
// strided and near 2^32, created and deleted in a shuffled order, each callback reaching its own
// context object (test/sdk/harness/contexts.ts logs which one it reached). Covers the table's growth,
// its deletion (later entries shifted back into the hole) and reuse of freed slots.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { bothBuilds } from "./builds.ts";
import { MiniHost } from "./mini-host.ts";

const ROOT = 1;

// A deterministic shuffle (xorshift), so a failure reproduces.
function shuffled<T>(items: T[], seed: number): T[] {
  const out = items.slice();
  let s = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

function ids(): number[] {
  const out: number[] = [];
  for (let i = 2; i < 1500; i++) out.push(i);
  for (let i = 0; i < 500; i++) out.push(100_000 + i * 64);
  for (let i = 1; i <= 40; i++) out.push(0xffff_ffff - i);
  return out;
}

for (const build of bothBuilds("build/test-sdk", "contexts")) {
  describe(`context bookkeeping (${build.label})`, () => {
    for (const [rootId, callback, tag] of [["http", "proxy_on_request_headers", "h"], ["tcp", "proxy_on_new_connection", "t"]] as const) {
      it(`should route every callback to its own ${rootId} context while thousands are created and deleted`, async () => {
        const host = await MiniHost.load(build.path, { rootId, logLevel: 2 });
        assert.deepEqual(host.startPlugin(), { vmStart: 1, configure: 1 });
        const call = (id: number) => (callback === "proxy_on_request_headers" ? host.exports[callback](id, 0, 1) : host.exports[callback](id));
        const calls = new Map<number, number>();
        const touch = (id: number) => {
          const before = host.logs.length;
          call(id);
          calls.set(id, (calls.get(id) ?? 0) + 1);
          assert.deepEqual(host.logs.slice(before).map((l) => l.message), [`${tag} ${id >>> 0} ${calls.get(id)}`]);
        };
        const remove = (id: number) => {
          const before = host.logs.length;
          host.exports.proxy_on_done(id);
          host.exports.proxy_on_delete(id);
          calls.delete(id);
          assert.deepEqual(host.logs.slice(before).map((l) => l.message), [`d ${id >>> 0}`]);
        };

        const all = shuffled(ids(), 7);
        for (const id of all) host.exports.proxy_on_context_create(id, ROOT);
        for (const id of shuffled(all, 11)) touch(id);
        // Delete every other context in a shuffled order, touching the survivors in between.
        const [gone, kept] = [all.filter((_, i) => i % 2 === 0), all.filter((_, i) => i % 2 === 1)];
        for (const [i, id] of shuffled(gone, 13).entries()) {
          remove(id);
          if (i % 50 === 0) for (const k of kept) touch(k);
        }
        for (const id of shuffled(kept, 17)) touch(id);
        // Freed slots are reused by new contexts; the survivors keep their state.
        const fresh = gone.map((id) => (id + 7_000_000) >>> 0);
        for (const id of fresh) host.exports.proxy_on_context_create(id, ROOT);
        for (const id of shuffled([...kept, ...fresh], 19)) touch(id);
        for (const id of shuffled([...kept, ...fresh], 23)) remove(id);
        assert.deepEqual(host.exitCodes, []);
        // The root is still there; a callback for a deleted stream aborts (the VM fails), as before.
        assert.throws(() => call(kept[0]), WebAssembly.RuntimeError);
        assert.equal(host.exitCodes.length, 1);
      });
    }

    // The root id picks the registration: the first one of exactly that id, else the "" one.
    for (const [rootId, tag] of [["http", "h"], ["", "f"], ["other", "f"], ["HTTP", "f"], ["grüße", "f"]]) {
      it(`should give root id ${JSON.stringify(rootId)} the root registered as ${tag === "h" ? "\"http\" first" : "\"\""}`, async () => {
        const host = await MiniHost.load(build.path, { rootId, logLevel: 2 });
        assert.deepEqual(host.startPlugin(), { vmStart: 1, configure: 1 });
        host.exports.proxy_on_context_create(2, ROOT);
        host.exports.proxy_on_request_headers(2, 0, 1);
        assert.deepEqual(host.logs.map((l) => l.message), [`${tag} 2 1`]);
      });
    }
  });
}
