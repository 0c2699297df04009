/**
 * The plan catalog (image-hub/plans.json) as typed, validated data for the services.
 * @module
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** An action a token or a plan may allow on a repository. */
export type Action = "pull" | "push" | "delete";

/** One plan of the catalog. */
export interface Plan {
  id: string;
  name: string;
  pullsPerWindow: number;
  actions: Action[];
  maxBlobBytes: number;
  privateRepositories: number;
  priceUsdPerMonth: number;
}

/** The whole catalog. */
export interface Catalog {
  windowSeconds: number;
  defaultPlan: string;
  plans: Plan[];
}

/** Path of the project's one plan catalog. */
export const catalogPath = fileURLToPath(new URL("./plans.json", import.meta.url));

const ACTIONS = new Set<string>(["pull", "push", "delete"]);

function positiveInt(value: unknown, field: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new Error(`plan catalog: ${field} must be a non-negative integer`);
  }
  return value;
}

/**
 * parseCatalog validates raw catalog JSON; callable any time. Throws an Error naming the bad field
 * (e.g. `plans[1].pullsPerWindow`) when the data does not match the catalog schema.
 */
export function parseCatalog(raw: unknown): Catalog {
  if (typeof raw !== "object" || raw === null) throw new Error("plan catalog: must be a JSON object");
  const obj = raw as Record<string, unknown>;
  const windowSeconds = positiveInt(obj.windowSeconds, "windowSeconds");
  if (windowSeconds === 0) throw new Error("plan catalog: windowSeconds must be positive");
  if (!Array.isArray(obj.plans) || obj.plans.length === 0) throw new Error("plan catalog: plans must be a non-empty array");
  const plans = obj.plans.map((p: unknown, i: number): Plan => {
    const f = (name: string) => `plans[${i}].${name}`;
    if (typeof p !== "object" || p === null) throw new Error(`plan catalog: plans[${i}] must be an object`);
    const plan = p as Record<string, unknown>;
    if (typeof plan.id !== "string" || !/^[a-z][a-z0-9-]*$/.test(plan.id)) throw new Error(`plan catalog: ${f("id")} must be a lower-case identifier`);
    if (typeof plan.name !== "string" || plan.name === "") throw new Error(`plan catalog: ${f("name")} must be a non-empty string`);
    if (!Array.isArray(plan.actions) || !plan.actions.every((a) => ACTIONS.has(a))) {
      throw new Error(`plan catalog: ${f("actions")} must list only pull, push, delete`);
    }
    return {
      id: plan.id,
      name: plan.name,
      pullsPerWindow: positiveInt(plan.pullsPerWindow, f("pullsPerWindow")),
      actions: plan.actions as Action[],
      maxBlobBytes: positiveInt(plan.maxBlobBytes, f("maxBlobBytes")),
      privateRepositories: positiveInt(plan.privateRepositories, f("privateRepositories")),
      priceUsdPerMonth: positiveInt(plan.priceUsdPerMonth, f("priceUsdPerMonth")),
    };
  });
  if (new Set(plans.map((p) => p.id)).size !== plans.length) throw new Error("plan catalog: plans[].id must be unique");
  if (typeof obj.defaultPlan !== "string" || !plans.some((p) => p.id === obj.defaultPlan)) {
    throw new Error("plan catalog: defaultPlan must name one of plans[].id");
  }
  return { windowSeconds, defaultPlan: obj.defaultPlan, plans };
}

/** loadCatalog reads and validates the catalog file; throws with the file path and bad field on failure. */
export function loadCatalog(path: string = catalogPath): Catalog {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new Error(`plan catalog ${path}: ${(err as Error).message}`);
  }
  return parseCatalog(raw);
}

/** findPlan returns the plan with this id, or undefined when the catalog has none. */
export function findPlan(catalog: Catalog, id: string): Plan | undefined {
  return catalog.plans.find((p) => p.id === id);
}
