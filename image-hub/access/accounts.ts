/**
 * The accounts API under `/api/*` (CONTRACT.md "Accounts API"): plans, sign-up, log-in, me, plan
 * changes, the registry token endpoint and the repository list for the UI.
 * @module
 */
import { Router, type Request } from "express";
import { findPlan, type Action, type Catalog, type Plan } from "../catalog.ts";
import { MAX_TOKEN_LENGTH } from "../filter-configs.ts";
import { HttpError } from "../http-error.ts";
import type { Quota } from "./policy.ts";
import { NAME_MAX, NAME_RE } from "./routes-map.ts";
import type { StorageClient } from "./storage-client.ts";
import { parseScope, REGISTRY_TTL, SESSION_TTL, signRegistryToken, signSessionToken, verifySessionToken, type Grant, type SigningKeys } from "./tokens.ts";
import { validateCredentials, type User, type Users } from "./users.ts";

/** What the accounts routes need. */
export interface AccountsOptions {
  catalog: Catalog;
  users: Users;
  keys: SigningKeys;
  storage: StorageClient;
  /** The enforcer's quota answer for a user on a plan; null when the enforcer cannot be asked. */
  quota: (user: string, plan: Plan) => Promise<Quota | null>;
  /** Where limits are enforced, for `GET /api/status`. */
  mode: "filter" | "app";
}

interface RepositoryInfo {
  name: string;
  owner: string;
  visibility: "public" | "private";
}

/** Marks /api/token failures so the error middleware answers in the registry format. */
export const REGISTRY_FORMAT = Symbol("registryFormat");

function unauthorized(registry = false): HttpError {
  return new HttpError(401, "UNAUTHORIZED", "invalid username, password or session", null, registry ? { "WWW-Authenticate": 'Basic realm="image-hub"' } : {});
}

/** accountRoutes builds the `/api` router; call once per app. Errors are HttpErrors. */
export function accountRoutes(options: AccountsOptions): Router {
  const { catalog, users, keys, storage, quota, mode } = options;
  const router = Router();

  function planOf(user: User): Plan {
    const plan = findPlan(catalog, user.plan) ?? findPlan(catalog, catalog.defaultPlan);
    return plan as Plan;
  }

  /** Resolves the caller from a session Bearer token or Basic credentials; undefined when none was sent. */
  async function caller(req: Request): Promise<User | undefined> {
    const auth = req.headers.authorization;
    if (!auth) return undefined;
    const bearer = /^Bearer ([^\s]+)$/i.exec(auth);
    if (bearer) {
      const name = await verifySessionToken(keys, bearer[1]).catch(() => undefined);
      const user = name === undefined ? undefined : users.get(name);
      if (!user) throw unauthorized();
      return user;
    }
    const basic = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(auth);
    if (!basic) throw unauthorized();
    const decoded = Buffer.from(basic[1], "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    const user = colon < 0 ? undefined : await users.authenticate(decoded.slice(0, colon), decoded.slice(colon + 1));
    if (!user) throw unauthorized();
    return user;
  }

  async function required(req: Request): Promise<User> {
    const user = await caller(req);
    if (!user) throw unauthorized();
    return user;
  }

  async function me(user: User) {
    const plan = planOf(user);
    const [q, stats] = await Promise.all([quota(user.username, plan), storage.json<{ privateRepositories: number }>("GET", "/owners/stats", { owner: user.username })]);
    return {
      username: user.username,
      plan: plan.id,
      planName: plan.name,
      createdAt: user.createdAt,
      quota: q,
      privateRepositories: { used: stats.privateRepositories, limit: plan.privateRepositories },
    };
  }

  async function session(user: User) {
    const { token } = await signSessionToken(keys, user.username);
    return { user, token, expiresIn: SESSION_TTL };
  }

  router.get("/plans", (_req, res) => {
    res.json(catalog);
  });

  router.post("/signup", async (req, res) => {
    const { username, password } = validateCredentials(req.body);
    const planId = req.body.plan ?? catalog.defaultPlan;
    if (typeof planId !== "string" || !findPlan(catalog, planId)) throw new HttpError(400, "BAD_REQUEST", `plan must be one of ${catalog.plans.map((p) => p.id).join(", ")}`);
    const user = await users.create(username, password, planId);
    res.status(201).json(await session(user));
  });

  router.post("/login", async (req, res) => {
    const body = req.body as Record<string, unknown> | undefined;
    if (typeof body?.username !== "string" || typeof body.password !== "string") throw new HttpError(400, "BAD_REQUEST", "username and password must be strings");
    const user = await users.authenticate(body.username, body.password);
    if (!user) throw unauthorized();
    res.json(await session(user));
  });

  router.get("/me", async (req, res) => {
    res.json(await me(await required(req)));
  });

  // Pulls served to the caller per repository and hour, the last 24 hours, oldest hour first.
  router.get("/me/usage", async (req, res) => {
    const user = await required(req);
    const usage = await storage.json<{ fromHour: number; hours: number; rows: { repo: string; hour: number; pulls: number }[] }>("GET", "/usage", { user: user.username });
    const repositories = new Map<string, number[]>();
    for (const r of usage.rows) {
      const series = repositories.get(r.repo) ?? Array<number>(usage.hours).fill(0);
      series[r.hour - usage.fromHour] = r.pulls;
      repositories.set(r.repo, series);
    }
    res.json({
      hours: Array.from({ length: usage.hours }, (_, i) => new Date((usage.fromHour + i) * 3_600_000).toISOString()),
      repositories: [...repositories].map(([name, pulls]) => ({ name, pulls })),
    });
  });

  router.get("/status", (_req, res) => {
    res.json({ enforcement: mode });
  });

  const changePlan = async (req: Request, res: import("express").Response) => {
    const user = await required(req);
    const plan = typeof req.body?.plan === "string" ? findPlan(catalog, req.body.plan) : undefined;
    if (!plan) throw new HttpError(400, "BAD_REQUEST", `plan must be one of ${catalog.plans.map((p) => p.id).join(", ")}`);
    const stats = await storage.json<{ privateRepositories: number }>("GET", "/owners/stats", { owner: user.username });
    if (stats.privateRepositories > plan.privateRepositories) {
      throw new HttpError(409, "PLAN_CONFLICT", `plan ${plan.id} allows ${plan.privateRepositories} private repositories; make ${stats.privateRepositories - plan.privateRepositories} public first`);
    }
    res.json(await me(users.setPlan(user.username, plan.id) as User));
  };
  router.post("/plan", changePlan);
  router.put("/me/plan", changePlan);

  router.get("/token", async (req, res) => {
    const user = await caller(req).catch(() => undefined);
    if (!user) throw Object.assign(unauthorized(true), { [REGISTRY_FORMAT]: true });
    const plan = planOf(user);
    const raw = req.query.scope;
    const scopes = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).flatMap((s) => String(s).split(" "));
    const access: Grant[] = [];
    for (const scope of scopes) {
      const parsed = parseScope(scope);
      if (!parsed || parsed.name.length > NAME_MAX || !NAME_RE.test(parsed.name)) continue;
      const granted = await grantable(user, plan, parsed.name, parsed.actions);
      if (granted.length > 0) access.push({ type: "repository", name: parsed.name, actions: granted });
    }
    const { token, issuedAt } = await signRegistryToken(keys, { user: user.username, plan: plan.id, access });
    // Both modes refuse longer tokens; better to say so now than to hand out one that never works.
    if (token.length > MAX_TOKEN_LENGTH) {
      const message = `the requested scopes make a token of ${token.length} characters; the registry accepts at most ${MAX_TOKEN_LENGTH}: ask for fewer repositories at once`;
      throw Object.assign(new HttpError(400, "UNSUPPORTED", message, { limit: MAX_TOKEN_LENGTH }), { [REGISTRY_FORMAT]: true });
    }
    res.json({ token, access_token: token, expires_in: REGISTRY_TTL, issued_at: new Date(issuedAt * 1000).toISOString() });
  });

  /** The contract's grant rule: pull on own and public repositories, push/delete in the own namespace, within the plan. */
  async function grantable(user: User, plan: Plan, name: string, wanted: string[]): Promise<Action[]> {
    const own = name.startsWith(`${user.username}/`);
    let repo: RepositoryInfo | undefined;
    if (!own && wanted.includes("pull")) repo = await storage.json<RepositoryInfo>("GET", "/repository", { name }).catch(() => undefined);
    const out: Action[] = [];
    for (const a of ["pull", "push", "delete"] as Action[]) {
      if (!wanted.includes(a) || !plan.actions.includes(a)) continue;
      if (a === "pull" ? own || repo?.visibility === "public" : own) out.push(a);
    }
    return out;
  }

  router.get("/repositories", async (req, res) => {
    const user = await caller(req);
    const q = typeof req.query.q === "string" ? req.query.q.trim() : "";
    const owner = typeof req.query.owner === "string" ? req.query.owner : undefined;
    res.json(await storage.json("GET", "/repositories", { viewer: user?.username, q, owner, limit: req.query.limit as string | undefined, offset: req.query.offset as string | undefined }));
  });

  function nameOf(req: Request): string {
    const parts = (req.params as Record<string, string[] | string>).name;
    const name = Array.isArray(parts) ? parts.join("/") : String(parts);
    if (name.length > NAME_MAX || !NAME_RE.test(name)) throw new HttpError(400, "BAD_REQUEST", "name is not a valid repository name");
    return name;
  }

  router.get("/repositories/*name", async (req, res) => {
    const user = await caller(req);
    const repo = await storage.json<RepositoryInfo>("GET", "/repository", { name: nameOf(req) }).catch(() => undefined);
    if (!repo || (repo.visibility === "private" && repo.owner !== user?.username)) throw new HttpError(404, "NOT_FOUND", "repository not found");
    res.json(repo);
  });

  function visibilityOf(req: Request): "public" | "private" {
    const v = req.body?.visibility;
    if (v !== "public" && v !== "private") throw new HttpError(400, "BAD_REQUEST", "visibility must be public or private");
    return v;
  }

  router.post("/repositories", async (req, res) => {
    const user = await required(req);
    const name = typeof req.body?.name === "string" ? req.body.name : "";
    if (name.length > NAME_MAX || !NAME_RE.test(name)) throw new HttpError(400, "BAD_REQUEST", "name is not a valid repository name");
    if (!name.startsWith(`${user.username}/`)) throw new HttpError(403, "DENIED", `repositories of ${user.username} must be named ${user.username}/<name>`);
    const body = { name, owner: user.username, visibility: visibilityOf(req), maxPrivate: planOf(user).privateRepositories };
    res.status(201).json(await storage.json("POST", "/repositories", {}, body));
  });

  router.patch("/repositories/*name", async (req, res) => {
    const user = await required(req);
    const name = nameOf(req);
    const repo = await storage.json<RepositoryInfo>("GET", "/repository", { name }).catch(() => undefined);
    if (!repo || (repo.visibility === "private" && repo.owner !== user.username)) throw new HttpError(404, "NOT_FOUND", "repository not found");
    if (repo.owner !== user.username) throw new HttpError(403, "DENIED", `${name} belongs to ${repo.owner}`);
    res.json(await storage.json("PATCH", "/repositories", {}, { name, visibility: visibilityOf(req), maxPrivate: planOf(user).privateRepositories }));
  });

  router.use((_req, _res, next) => next(new HttpError(404, "NOT_FOUND", "no such API endpoint")));
  return router;
}
