// Reads committed manifest files back into objects (for the deploy command and the validation tests).
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { parseAllDocuments } from "yaml";
import type { LocatedObject } from "./validate.ts";

/**
 * Parses multi-document YAML text; `name` labels the objects (`name#index`). Empty documents (comments
 * only) are skipped. Throws an Error naming the file and document on a YAML error or a non-object.
 */
export function parseManifestText(text: string, name: string): LocatedObject[] {
  const out: LocatedObject[] = [];
  parseAllDocuments(text).forEach((doc, i) => {
    if (doc.errors.length) throw new Error(`${name}#${i}: ${doc.errors[0].message}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) return;
    if (typeof value !== "object" || Array.isArray(value)) throw new Error(`${name}#${i}: not a Kubernetes object`);
    out.push({ where: `${name}#${i}`, object: value as Record<string, unknown> });
  });
  return out;
}

/**
 * The Kubernetes objects of every `*.yaml` directly in `dir` (subdirectories such as helm/ and
 * forked-build/ are not applied), in file-name order. Throws when the directory is missing or a
 * document lacks apiVersion/kind.
 */
export function readManifestDir(dir: string, base = dir): LocatedObject[] {
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new Error(`${dir} is not a directory`);
  const objects = readdirSync(dir)
    .filter((f) => f.endsWith(".yaml") && statSync(join(dir, f)).isFile())
    .sort()
    .flatMap((f) => parseManifestText(readFileSync(join(dir, f), "utf8"), relative(base, join(dir, f)) || f));
  for (const o of objects) {
    if (typeof o.object.apiVersion !== "string" || typeof o.object.kind !== "string") throw new Error(`${o.where}: missing apiVersion or kind`);
  }
  return objects;
}
