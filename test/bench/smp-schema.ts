// An independent checker of the benchmark's SMP file, written from the SMP v0.6.1 field list rather
// than from the benchmark's writer so that a writer bug cannot hide itself. The official protos are
// checked separately (smp-proto.ts, Go); this adds what protos cannot say: units, real time windows,
// durations that match them, one rate per test, and a load generator named rather than measured.

const CONFIG_FIELDS = ["smp_version", "id", "name", "labels", "clients", "duration"];
const CLIENT_FIELDS = ["internal", "load_generator", "protocol", "connections", "rps", "headers", "cookies", "body", "content_type", "endpoint_urls", "ssl_certificate", "additional_options"];
const RESULT_FIELDS = ["smp_version", "id", "labels", "start_time", "end_time", "latencies_ms", "actual_qps", "details_uri", "test_id", "mesh_config_id", "env_id"];
const LATENCY_FIELDS = ["min", "average", "p50", "p90", "p99", "max"];
const ENV_FIELDS = ["smp_version", "id", "labels", "kubernetes_version", "nodes", "individual_workloads", "traffic_metadata"];
const MESH_FIELDS = [
  "smp_version", "id", "labels", "ingress_gateway", "sidecar", "mesh_telemetry", "mesh_policy", "mesh_control_plane", "mesh_policy_enabled",
  "mesh_telemetry_enabled", "mtls_enabled", "proxy_concurrency", "mesh_build", "proxy_build", "exp_group_uuid", "exp_uuid", "profile", "mesh_type", "application_metadata",
];
const SIDECAR_FIELDS = ["count", "cpu_mcores", "mem_mb", "rps", "bps"];
const RFC3339_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/;
const INT32_MAX = 2 ** 31 - 1;
const SMP_VERSION = "v0.6.1";

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isInt32(v: unknown): boolean {
  return typeof v === "number" && Number.isInteger(v) && v >= -(2 ** 31) && v <= INT32_MAX;
}

function fields(o: Obj, allowed: string[], required: string[], at: string, problems: string[]): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) problems.push(`${at}: unknown field ${k}`);
  for (const k of required) if (!(k in o)) problems.push(`${at}: missing field ${k}`);
}

function stringMap(v: unknown, at: string, problems: string[]): void {
  if (!isObj(v)) return void problems.push(`${at}: must be a map of strings`);
  for (const [k, x] of Object.entries(v)) if (typeof x !== "string") problems.push(`${at}.${k}: label values must be strings, got ${typeof x}`);
}

function str(v: unknown, at: string, problems: string[]): void {
  if (typeof v !== "string") problems.push(`${at}: must be a string`);
}

function checkClient(c: unknown, at: string, problems: string[]): void {
  if (!isObj(c)) return void problems.push(`${at}: must be an object`);
  fields(c, CLIENT_FIELDS, CLIENT_FIELDS, at, problems);
  if (typeof c.internal !== "boolean") problems.push(`${at}.internal: must be a boolean`);
  for (const k of ["load_generator", "body", "content_type", "ssl_certificate", "additional_options"]) str(c[k], `${at}.${k}`, problems);
  // A generator's name, not what it measured ("148 late sends") or its units.
  if (typeof c.load_generator === "string" && (c.load_generator.length === 0 || /[()µ]|\d+ late/.test(c.load_generator))) problems.push(`${at}.load_generator: must name the generator only, got ${JSON.stringify(c.load_generator)}`);
  if (!isInt32(c.protocol) || (c.protocol as number) < 0 || (c.protocol as number) > 4) problems.push(`${at}.protocol: must be a Protocol enum value 0-4`);
  if (!isInt32(c.connections) || (c.connections as number) < 1) problems.push(`${at}.connections: must be a positive int32`);
  if (typeof c.rps !== "number" || !Number.isSafeInteger(c.rps) || c.rps < 0) problems.push(`${at}.rps: must be a non-negative int64`);
  stringMap(c.headers, `${at}.headers`, problems);
  stringMap(c.cookies, `${at}.cookies`, problems);
  if (!Array.isArray(c.endpoint_urls) || c.endpoint_urls.length === 0 || c.endpoint_urls.some((u) => typeof u !== "string")) problems.push(`${at}.endpoint_urls: must be a non-empty list of strings`);
  if (typeof c.additional_options === "string" && c.additional_options !== "") {
    try {
      JSON.parse(c.additional_options);
    } catch {
      problems.push(`${at}.additional_options: not JSON`);
    }
  }
}

function checkLatency(l: unknown, at: string, problems: string[]): void {
  if (!isObj(l)) return void problems.push(`${at}: must be an object`);
  fields(l, LATENCY_FIELDS, LATENCY_FIELDS, at, problems);
  const v = LATENCY_FIELDS.map((k) => l[k]);
  if (v.some((x) => typeof x !== "number" || !Number.isFinite(x) || x < 0)) return void problems.push(`${at}: every latency must be a finite number ≥ 0 (ms)`);
  const [min, avg, p50, p90, p99, max] = v as number[];
  if (!(min <= p50 && p50 <= p90 && p90 <= p99 && p99 <= max)) problems.push(`${at}: need min ≤ p50 ≤ p90 ≤ p99 ≤ max, got ${v.join(", ")}`);
  if (!(min <= avg && avg <= max)) problems.push(`${at}: average ${avg} outside [min ${min}, max ${max}]`);
  // Loopback answers take between microseconds and seconds: a p50 over 60,000 "ms" means the
  // writer put µs (or ns) where SMP wants ms.
  if (p50 > 60_000) problems.push(`${at}.p50: ${p50} ms is implausible; latencies must be in milliseconds`);
}

/** Returns every problem found in an SMP document of the benchmark's shape; empty means well-formed. */
export function checkSmpDocument(doc: unknown): string[] {
  const problems: string[] = [];
  if (!isObj(doc)) return ["document: must be an object"];
  if (doc.smp_version !== SMP_VERSION) problems.push(`smp_version: must be ${SMP_VERSION}`);
  const env = doc.environment;
  let envId = "";
  if (!isObj(env)) problems.push("environment: must be an EnvironmentConfig object");
  else {
    fields(env, ENV_FIELDS, ["smp_version", "id", "nodes"], "environment", problems);
    str(env.id, "environment.id", problems);
    envId = String(env.id);
    stringMap(env.labels ?? {}, "environment.labels", problems);
    if (!Array.isArray(env.nodes) || env.nodes.length === 0) problems.push("environment.nodes: must list the machine");
    else
      env.nodes.forEach((n, i) => {
        if (!isObj(n)) return void problems.push(`environment.nodes[${i}]: must be an object`);
        fields(n, ["type", "cores", "mem_mb"], ["type", "cores", "mem_mb"], `environment.nodes[${i}]`, problems);
        str(n.type, `environment.nodes[${i}].type`, problems);
        if (!isInt32(n.cores) || (n.cores as number) < 1) problems.push(`environment.nodes[${i}].cores: must be a positive int32`);
        if (typeof n.mem_mb !== "number" || !Number.isSafeInteger(n.mem_mb)) problems.push(`environment.nodes[${i}].mem_mb: must be an int64`);
      });
  }
  const meshIds = new Set<string>();
  if (!Array.isArray(doc.mesh_configs)) problems.push("mesh_configs: must be a list");
  else
    doc.mesh_configs.forEach((m, i) => {
      const at = `mesh_configs[${i}]`;
      if (!isObj(m)) return void problems.push(`${at}: must be an object`);
      fields(m, MESH_FIELDS, ["smp_version", "id"], at, problems);
      str(m.id, `${at}.id`, problems);
      meshIds.add(String(m.id));
      if (m.sidecar !== undefined) {
        if (!isObj(m.sidecar)) problems.push(`${at}.sidecar: must be an object`);
        else {
          fields(m.sidecar, SIDECAR_FIELDS, [], `${at}.sidecar`, problems);
          for (const [k, v] of Object.entries(m.sidecar)) if (!isInt32(v)) problems.push(`${at}.sidecar.${k}: must be an int32`);
        }
      }
      if (m.proxy_concurrency !== undefined && !isInt32(m.proxy_concurrency)) problems.push(`${at}.proxy_concurrency: must be an int32`);
    });
  if (!Array.isArray(doc.tests)) return [...problems, "tests: must be a list"];
  const ids = new Set<string>();
  doc.tests.forEach((t, i) => {
    const at = `tests[${i}]`;
    if (!isObj(t) || !isObj(t.config) || !Array.isArray(t.results)) return void problems.push(`${at}: must be {config, results[]}`);
    const c = t.config;
    fields(c, CONFIG_FIELDS, CONFIG_FIELDS, `${at}.config`, problems);
    if (c.smp_version !== SMP_VERSION) problems.push(`${at}.config.smp_version: must be ${SMP_VERSION}`);
    // Values are ms; a name promising µs misleads.
    if (typeof c.name === "string" && /µs/.test(c.name)) problems.push(`${at}.config.name: says µs but latencies are ms`);
    str(c.id, `${at}.config.id`, problems);
    str(c.name, `${at}.config.name`, problems);
    stringMap(c.labels, `${at}.config.labels`, problems);
    if (typeof c.duration !== "string" || !/^\d+(\.\d+)?s$/.test(c.duration)) problems.push(`${at}.config.duration: must be seconds like "8s"`);
    if (!Array.isArray(c.clients) || c.clients.length === 0) problems.push(`${at}.config.clients: must list the load generator`);
    else c.clients.forEach((cl, j) => checkClient(cl, `${at}.config.clients[${j}]`, problems));
    if (t.results.length === 0) problems.push(`${at}.results: empty`);
    t.results.forEach((r, j) => {
      const rat = `${at}.results[${j}]`;
      if (!isObj(r)) return void problems.push(`${rat}: must be an object`);
      fields(r, RESULT_FIELDS, RESULT_FIELDS, rat, problems);
      if (r.smp_version !== SMP_VERSION) problems.push(`${rat}.smp_version: must be ${SMP_VERSION}`);
      for (const k of ["id", "details_uri", "test_id", "mesh_config_id", "env_id"]) str(r[k], `${rat}.${k}`, problems);
      if (ids.has(String(r.id))) problems.push(`${rat}.id: duplicate ${String(r.id)}`);
      ids.add(String(r.id));
      stringMap(r.labels, `${rat}.labels`, problems);
      for (const k of ["start_time", "end_time"]) if (typeof r[k] !== "string" || !RFC3339_UTC.test(r[k] as string)) problems.push(`${rat}.${k}: must be an RFC 3339 UTC timestamp`);
      if (typeof r.start_time === "string" && typeof r.end_time === "string") {
        const window = (Date.parse(r.end_time) - Date.parse(r.start_time)) / 1000;
        const duration = typeof c.duration === "string" ? Number.parseFloat(c.duration) : NaN;
        if (!(window > 0)) problems.push(`${rat}: the time window is empty or reversed (${r.start_time} .. ${r.end_time})`);
        // The window holds the whole measurement (an interleaved arm's window also holds the other arm).
        else if (!(window >= duration - 0.01)) problems.push(`${rat}: window of ${window} s is shorter than the test's duration ${String(c.duration)}`);
      }
      const first = (t.results as unknown[])[0];
      if (j > 0 && isObj(first) && r.actual_qps !== first.actual_qps) problems.push(`${rat}.actual_qps: ${String(r.actual_qps)} differs from the test's rate ${String(first.actual_qps)}`);
      checkLatency(r.latencies_ms, `${rat}.latencies_ms`, problems);
      if (typeof r.actual_qps !== "number" || !Number.isFinite(r.actual_qps) || r.actual_qps < 0) problems.push(`${rat}.actual_qps: must be a finite number ≥ 0`);
      if (r.test_id !== c.id) problems.push(`${rat}.test_id: ${String(r.test_id)} does not name its config ${String(c.id)}`);
      if (!meshIds.has(String(r.mesh_config_id))) problems.push(`${rat}.mesh_config_id: ${String(r.mesh_config_id)} is not in mesh_configs`);
      if (r.env_id !== envId) problems.push(`${rat}.env_id: does not name the environment`);
    });
  });
  return problems;
}
