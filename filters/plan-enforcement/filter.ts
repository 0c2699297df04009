// plan-enforcement: decides whether the verified identity (x-hub-* headers set by token-auth, which
// must run first) may perform the registry action a /v2 request maps to (CONTRACT.md). FAILS CLOSED:
// no identity, an unknown plan, an unknown /v2 route or a trap (FAIL_CLOSED policy) all refuse.
// A plan that forbids the action is final (403); a token that merely lacks the scope gets the token
// spec's 401 insufficient_scope challenge, so a client that asked for less (oras asks pull first) can
// fetch a token with the scope named in the challenge and retry.
// The filter itself; index.ts builds it as its own module, filters/policy composes it with the others.
import {
  ConfigReader,
  Counter,
  FilterDataStatus,
  FilterHeadersStatus,
  getPluginConfigurationString,
  HeaderPair,
  HttpContext,
  JsonObject,
  JsonString,
  JsonKind,
  logDebug,
  logEnabled,
  LogLevel,
  requestHeaders,
  RootContext,
} from "proxy-wasm-as-sdk";
import { ACTION_DELETE, ACTION_PULL, ACTION_PUSH, actionName, challengeScope, parseRoute, Route, RouteKind } from "proxy-wasm-as-sdk/registry/routes";
import {
  BAD_REQUEST,
  bearerChallenge,
  bearerChallengePrefix,
  FORBIDDEN,
  findPlanIndex,
  HEADER_ACCESS,
  HEADER_PLAN,
  HEADER_USER,
  isPlanId,
  isQuotable,
  NOT_FOUND,
  PAYLOAD_TOO_LARGE,
  sendRegistryError,
  UNAUTHORIZED,
} from "proxy-wasm-as-sdk/registry/errors";
import { TextTable } from "proxy-wasm-as-sdk/texts";
import { grantedActions, parseByteCount, rangeEnd } from "./assembly/grants";

/** FILTER is the filter's name: its root id, and the prefix of its log lines and configuration errors. */
export const FILTER = "plan-enforcement";
const PLAN_FIELDS = ["id", "actions", "maxBlobBytes"];
/** plan-enforcement's own configuration errors, lines of CONFIG_ERRORS in this order (filters/sdk/texts.ts). */
const enum ConfigError {
  NoPlans,
  BadPlanId,
  DuplicatePlan,
  BadAction,
  Empty,
  NotQuotable,
}
const CONFIG_ERRORS = new TextTable(`expected at least one plan
expected 1-64 characters of [a-z0-9-] starting with a letter
duplicate plan id
expected "pull", "push" or "delete"
expected a non-empty string
must not contain quotes, backslashes or control characters`);

class PlanMetrics {
  readonly allowed: Counter;
  readonly denied: Counter;
  readonly tooLarge: Counter;
  constructor(plan: string) {
    const prefix = "image_hub.plan_enforcement." + plan + ".";
    this.allowed = new Counter(prefix + "allowed");
    this.denied = new Counter(prefix + "denied");
    this.tooLarge = new Counter(prefix + "too_large");
  }
}

/** PlanEnforcementRoot is plan-enforcement's root context (configuration, metrics); see newPlanEnforcementRoot. */
export class PlanEnforcementRoot extends RootContext {
  planIds: Array<string> = new Array<string>();
  planActions: Array<i32> = new Array<i32>();
  planMaxBlobBytes: Array<f64> = new Array<f64>();
  /** `Bearer realm="…",service="…"`, the start of the insufficient_scope challenge (as token-auth's). */
  challengePrefix: string = "";
  metrics: Array<PlanMetrics> = new Array<PlanMetrics>();
  /** Requests refused before a plan was known: no identity, unknown plan, bad name or route. */
  readonly invalid: Counter = new Counter("image_hub.plan_enforcement.invalid");
  configured: bool = false;

  /** Implements RootContext.onConfigure: any invalid field refuses the whole configuration. */
  onConfigure(pluginConfigurationSize: u32): bool {
    const reader = new ConfigReader(FILTER);
    const config = reader.parse(getPluginConfigurationString());
    if (config === null) return reader.finish();
    reader.allowOnly(config, ["realm", "service", "plans"]);
    const realm = challengeField(reader, config, "realm");
    const service = challengeField(reader, config, "service");
    const plans = reader.requireArray(config, "plans");
    if (plans !== null && plans.items.length == 0) reader.fail("config.plans", CONFIG_ERRORS.get(ConfigError.NoPlans));
    const ids = new Array<string>();
    const actions = new Array<i32>();
    const limits = new Array<f64>();
    for (let i = 0; plans !== null && i < plans.items.length && reader.ok(); i++) {
      const plan = reader.asObject(plans.items[i]);
      if (plan === null) break;
      reader.allowOnly(plan, PLAN_FIELDS);
      const id = reader.requireString(plan, "id");
      if (id !== null && !isPlanId(id)) reader.fail(plan.path + ".id", CONFIG_ERRORS.get(ConfigError.BadPlanId));
      if (id !== null && findPlanIndex(ids, id) >= 0) reader.fail(plan.path + ".id", CONFIG_ERRORS.get(ConfigError.DuplicatePlan));
      const list = reader.requireArray(plan, "actions");
      let bits = 0;
      for (let j = 0; list !== null && j < list.items.length; j++) {
        const item = list.items[j];
        const name = item.kind == JsonKind.String ? changetype<JsonString>(item).value : "";
        const bit = name == "pull" ? ACTION_PULL : name == "push" ? ACTION_PUSH : name == "delete" ? ACTION_DELETE : 0;
        if (bit == 0) reader.fail(item.path, CONFIG_ERRORS.get(ConfigError.BadAction));
        bits |= bit;
      }
      const max = reader.requireInteger(plan, "maxBlobBytes", 0, 9007199254740991);
      if (id === null || !reader.ok()) break;
      ids.push(id);
      actions.push(bits);
      limits.push(<f64>max);
    }
    if (!reader.ok()) return reader.finish();
    this.planIds = ids;
    this.planActions = actions;
    this.planMaxBlobBytes = limits;
    this.challengePrefix = bearerChallengePrefix(realm, service);
    this.metrics = new Array<PlanMetrics>();
    for (let i = 0; i < ids.length; i++) this.metrics.push(new PlanMetrics(ids[i]));
    this.configured = true;
    return true;
  }

  /** Implements RootContext.createHttpContext. */
  createHttpContext(contextId: u32): HttpContext {
    return new PlanEnforcement(contextId, this);
  }
}

/** challengeField reads a required non-empty string that goes into the challenge unescaped. */
function challengeField(reader: ConfigReader, config: JsonObject, field: string): string {
  const value = reader.requireString(config, field);
  if (value === null) return "";
  if (value.length == 0) reader.fail("config." + field, CONFIG_ERRORS.get(ConfigError.Empty));
  else if (!isQuotable(value)) reader.fail("config." + field, CONFIG_ERRORS.get(ConfigError.NotQuotable));
  return value;
}

class PlanEnforcement extends HttpContext {
  /** Bytes a blob upload may still send in its body; negative when the body is not counted. */
  private bodyBudget: f64 = -1;
  private planIndex: i32 = -1;
  private refused: bool = false;

  /** Implements HttpContext.onRequestHeaders. */
  onRequestHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    const root = changetype<PlanEnforcementRoot>(this.root);
    // One snapshot of the map for every read (shared with the other filters of a composition).
    const request = requestHeaders.snapshot();
    const path = request.get(":path");
    const method = request.get(":method");
    const route = parseRoute(method === null ? "" : method, path === null ? "" : path);
    if (route.kind == RouteKind.NotRegistry && path !== null) return FilterHeadersStatus.Continue;
    if (route.kind == RouteKind.InvalidName) {
      return this.refuse(root, BAD_REQUEST, "NAME_INVALID", "invalid repository name", "plan_enforcement_name_invalid");
    }
    if (route.kind == RouteKind.Unsupported || path === null) {
      return this.refuse(root, NOT_FOUND, "UNSUPPORTED", "unsupported registry route", "plan_enforcement_unsupported");
    }
    const user = request.get(HEADER_USER);
    const plan = request.get(HEADER_PLAN);
    if (user === null || plan === null || !root.configured) {
      return this.refuse(root, FORBIDDEN, "DENIED", "no verified identity", "plan_enforcement_no_identity");
    }
    const index = findPlanIndex(root.planIds, plan);
    if (index < 0) return this.refuse(root, FORBIDDEN, "DENIED", "unknown plan " + plan, "plan_enforcement_unknown_plan");
    this.planIndex = index;
    if (route.kind == RouteKind.NoAction) return this.allow(root);
    const planDenial = this.planDenial(root, route, plan);
    if (planDenial.length > 0) return this.refuse(root, FORBIDDEN, "DENIED", planDenial, "plan_enforcement_denied");
    const missing = this.missingGrant(route);
    if (missing.length > 0) return this.insufficientScope(root, route, missing);
    if (route.isBlobUpload) {
      const limit = unchecked(root.planMaxBlobBytes[index]);
      const length = parseByteCount(request.get("content-length"));
      const end = rangeEnd(request.get("content-range"));
      if (length > limit || end >= limit) return this.tooLarge(root, limit);
      this.bodyBudget = limit;
    }
    return this.allow(root);
  }

  /** Implements HttpContext.onRequestBody: counts body bytes when no trustworthy length was announced. */
  onRequestBody(bodySize: u32, endOfStream: bool): FilterDataStatus {
    if (this.bodyBudget < 0 || this.refused) return FilterDataStatus.Continue;
    this.bodyBudget -= <f64>bodySize;
    if (this.bodyBudget >= 0) return FilterDataStatus.Continue;
    const root = changetype<PlanEnforcementRoot>(this.root);
    this.tooLarge(root, unchecked(root.planMaxBlobBytes[this.planIndex]));
    return FilterDataStatus.StopIterationNoBuffer;
  }

  /** Returns "" when the plan allows every action the route needs, else the DENIED message (CONTRACT.md). */
  private planDenial(root: PlanEnforcementRoot, route: Route, plan: string): string {
    const planActions = unchecked(root.planActions[this.planIndex]);
    const needed = route.action | (route.mountFrom.length > 0 ? ACTION_PULL : 0);
    for (let bit = ACTION_PULL; bit <= ACTION_DELETE; bit <<= 1) {
      if ((needed & bit) != 0 && (planActions & bit) == 0) return "plan " + plan + " does not allow " + actionName(bit);
    }
    return "";
  }

  /** Returns "" when the token grants what the route needs, else the message naming the missing grant. */
  private missingGrant(route: Route): string {
    const access = requestHeaders.snapshot().get(HEADER_ACCESS);
    const grants = access === null ? "" : access;
    if ((grantedActions(grants, route.repository) & route.action) != route.action) {
      return "token does not grant " + actionName(route.action) + " on " + route.repository;
    }
    if (route.mountFrom.length > 0 && (grantedActions(grants, route.mountFrom) & ACTION_PULL) == 0) {
      return "token does not grant pull on " + route.mountFrom;
    }
    return "";
  }

  private allow(root: PlanEnforcementRoot): FilterHeadersStatus {
    unchecked(root.metrics[this.planIndex]).allowed.increment();
    return FilterHeadersStatus.Continue;
  }

  /** 401 with `error="insufficient_scope"` and every scope the route needs (the token spec's answer). */
  private insufficientScope(root: PlanEnforcementRoot, route: Route, message: string): FilterHeadersStatus {
    this.refused = true;
    unchecked(root.metrics[this.planIndex]).denied.increment();
    if (logEnabled(LogLevel.Debug)) logDebug(FILTER + ": 401: " + message);
    const headers = new Array<HeaderPair>();
    headers.push(new HeaderPair("www-authenticate", bearerChallenge(root.challengePrefix, challengeScope(route), "insufficient_scope")));
    sendRegistryError(UNAUTHORIZED, "plan_enforcement_insufficient_scope", "UNAUTHORIZED", message, "null", headers);
    return FilterHeadersStatus.StopAllIterationAndWatermark;
  }

  private tooLarge(root: PlanEnforcementRoot, limit: f64): FilterHeadersStatus {
    this.refused = true;
    this.bodyBudget = -1;
    unchecked(root.metrics[this.planIndex]).tooLarge.increment();
    const bytes = (<i64>limit).toString();
    const plan = unchecked(root.planIds[this.planIndex]);
    const message = "blob upload exceeds the " + plan + " plan limit of " + bytes + " bytes";
    if (logEnabled(LogLevel.Debug)) logDebug(FILTER + ": 413: " + message);
    sendRegistryError(PAYLOAD_TOO_LARGE, "plan_enforcement_too_large", "SIZE_INVALID", message, "{\"limit\":" + bytes + "}");
    return FilterHeadersStatus.StopAllIterationAndWatermark;
  }

  private refuse(root: PlanEnforcementRoot, status: u32, code: string, message: string, details: string): FilterHeadersStatus {
    this.refused = true;
    if (this.planIndex >= 0) unchecked(root.metrics[this.planIndex]).denied.increment();
    else root.invalid.increment();
    if (logEnabled(LogLevel.Debug)) logDebug(FILTER + ": " + status.toString() + ": " + message);
    sendRegistryError(status, details, code, message);
    return FilterHeadersStatus.StopAllIterationAndWatermark;
  }
}

/** newPlanEnforcementRoot creates plan-enforcement's root context: index.ts registers it, filters/policy composes it. */
export function newPlanEnforcementRoot(contextId: u32): RootContext {
  return new PlanEnforcementRoot(contextId);
}
