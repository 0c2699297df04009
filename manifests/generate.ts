// `npx tsx manifests/generate.ts [--check] [options]`: regenerates manifests/{consul,istio,envoy}/ from
// the plan catalog, the filter configs and the built filters (run `node scripts/build.mjs --filters`
// first). `--check` writes nothing and exits 1 when a committed file differs.
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { generateAll } from "./src/generate.ts";
import { validateDeployments, type LocatedObject } from "./src/validate.ts";
import { DEFAULT_PARAMS, type ManifestParams } from "./src/params.ts";

const HELP = `usage: npx tsx manifests/generate.ts [--check] [--out DIR] [--namespace NS] [--app-image IMG]
       [--public-url URL] [--jwt-key KID=BASE64URL ...] [--sidecar-secret S]
Without options it writes the committed demo manifests (DEMO keys). For a real cluster pass your own
--public-url, --app-image, --jwt-key and --sidecar-secret and write to another --out directory.`;

/** Parses the CLI; throws an Error naming the option on bad input. */
export function parseGenerateArgs(argv: string[]): { params: ManifestParams; out: string; check: boolean; help: boolean } {
  const { values } = parseArgs({
    args: argv,
    options: {
      check: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
      out: { type: "string" },
      namespace: { type: "string" },
      "app-image": { type: "string" },
      "public-url": { type: "string" },
      "jwt-key": { type: "string", multiple: true },
      "sidecar-secret": { type: "string" },
    },
    strict: true,
  });
  const keys = (values["jwt-key"] ?? []).map((spec) => {
    const at = spec.indexOf("=");
    if (at <= 0) throw new Error(`--jwt-key: expected KID=BASE64URL, got "${spec}"`);
    return { kid: spec.slice(0, at), k: spec.slice(at + 1) };
  });
  const params: ManifestParams = {
    ...DEFAULT_PARAMS,
    namespace: values.namespace ?? DEFAULT_PARAMS.namespace,
    appImage: values["app-image"] ?? DEFAULT_PARAMS.appImage,
    publicUrl: values["public-url"] ?? DEFAULT_PARAMS.publicUrl,
    jwtKeys: keys.length ? keys : DEFAULT_PARAMS.jwtKeys,
    sidecarSecret: values["sidecar-secret"] ?? DEFAULT_PARAMS.sidecarSecret,
  };
  return { params, out: values.out ?? dirname(fileURLToPath(import.meta.url)), check: values.check ?? false, help: values.help ?? false };
}

function main(): number {
  const args = parseGenerateArgs(process.argv.slice(2));
  if (args.help) {
    console.log(HELP);
    return 0;
  }
  const files = generateAll(args.params);
  // Validate before writing, so custom parameters cannot produce manifests that would fail the tests.
  const deployments = new Map<string, LocatedObject[]>();
  for (const f of files) {
    const dir = dirname(f.path);
    if (f.objects.length === 0) continue;
    deployments.set(dir, [...(deployments.get(dir) ?? []), ...f.objects.map((object, i) => ({ where: `${f.path}#${i}`, object }))]);
  }
  const findings = validateDeployments([...deployments.values()]);
  if (findings.length) {
    for (const f of findings) console.error(`${f.where} ${f.what}: ${f.message}`);
    throw new Error(`${findings.length} validation finding(s); nothing written`);
  }
  const stale: string[] = [];
  for (const f of files) {
    const path = join(args.out, f.path);
    if (args.check) {
      if (!existsSync(path) || readFileSync(path, "utf8") !== f.text) stale.push(f.path);
      continue;
    }
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, f.text);
  }
  if (args.check) {
    if (stale.length) console.error(`stale: ${stale.join(", ")} (run npx tsx manifests/generate.ts)`);
    else console.log(`${files.length} files current`);
    return stale.length ? 1 : 0;
  }
  console.log(`wrote ${files.length} files under ${args.out}`);
  return 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    process.exitCode = main();
  } catch (err) {
    console.error(`generate: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}
