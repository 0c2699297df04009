// The envoy-cost table's hostcall floors (bench/modules/*-hostcalls.wat) stand for "this module's
// hostcalls with no work of its own". That holds only while each makes the same crossings per request
// as the module it stands for: these tests count both in the emulator and fail when a filter gains or
// loses a hostcall or a callback (then update the WAT module and its arm's label).
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { before, describe, test } from "node:test";
import { composedPolicyFilter } from "../../image-hub/filter-configs.ts";
import { crossingsPerPull, installCrossingCounter, type CrossingProfile } from "../../bench/lib/crossings.ts";
import { generateBenchKey, makeUsers } from "../../bench/lib/identity.ts";
import { buildWat } from "../../bench/lib/modules.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const REPO = "bench/app";
// 64 pulls: the SDK asks for the log level every 32 streams, a hostcall the WAT modules leave out.
const PULLS = 64;

/** Crossings per pull by name, without the SDK's periodic log-level query. */
const perName = (p: CrossingProfile) => Object.fromEntries(p.rows.filter(([name]) => name !== "→ host proxy_get_log_level"));

async function wat(file: string): Promise<Buffer> {
  const out = join(root, "build/bench", file.replace(/\.wat$/, ".wasm"));
  mkdirSync(join(root, "build/bench"), { recursive: true });
  await buildWat(root, file, out);
  return readFileSync(out);
}

describe("hostcall floors of the envoy-cost table", () => {
  let tokens: string[];
  let key: ReturnType<typeof generateBenchKey>;

  before(async () => {
    installCrossingCounter();
    key = generateBenchKey();
    tokens = (await makeUsers(key, "calls", { enterprise: 20 }, REPO)).map((u) => u.token);
  });

  test("policy-hostcalls.wat crosses the boundary as the composed policy module does per allowed pull", async () => {
    const composed = composedPolicyFilter({ realm: "http://127.0.0.1/api/token", keys: [key] });
    const policy = await crossingsPerPull([{ name: "policy", rootId: composed.rootId, wasm: readFileSync(composed.wasm), pluginConfig: composed.pluginConfig }], tokens, REPO, PULLS);
    const floor = await crossingsPerPull([{ name: "policy-hostcalls", rootId: "", wasm: await wat("policy-hostcalls.wat"), pluginConfig: "" }], tokens, REPO, PULLS);
    assert.deepEqual(perName(floor), perName(policy));
    assert.equal(floor.hostcalls, 13, "the arm's label says 13 hostcalls");
  });

  test("add-header-hostcalls.wat crosses the boundary as add-header with config.example.json does per request", async () => {
    const config = readFileSync(join(root, "filters/add-header/config.example.json"), "utf8");
    const addHeader = await crossingsPerPull([{ name: "add-header", rootId: "add_header", wasm: readFileSync(join(root, "build/filters/add-header.wasm")), pluginConfig: config }], tokens, REPO, PULLS);
    const floor = await crossingsPerPull([{ name: "add-header-hostcalls", rootId: "", wasm: await wat("add-header-hostcalls.wat"), pluginConfig: "" }], tokens, REPO, PULLS);
    assert.deepEqual(perName(floor), perName(addHeader));
    assert.equal(floor.hostcalls, 3, "the arm's label says 3 hostcalls");
  });
});
