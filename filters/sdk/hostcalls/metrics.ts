// Metrics. Each metric is defined lazily on first use, because Envoy forbids proxy_define_metric during
// _initialize (where module-level `new Counter(...)` runs).
import { proxy_define_metric, proxy_get_metric, proxy_increment_metric, proxy_record_metric } from "../abi/imports";
import { retPtr, retWide } from "../abi/malloc";
import { MetricType, WasmResult } from "../types";
import { setLastResult } from "./status";
import { encodeUtf8 } from "../utf8";

/** defineMetric registers a metric and returns its id, or 0 on failure (lastResult() tells why). */
export function defineMetric(type: MetricType, name: string): u32 {
  const n = encodeUtf8(name);
  store<u32>(retPtr(), 0);
  const r = setLastResult(proxy_define_metric(<u32>type, changetype<usize>(n), <usize>n.byteLength, retPtr()));
  return r == WasmResult.Ok ? load<u32>(retPtr()) : 0;
}

/** Metric holds the name and lazily defined id shared by Counter, Gauge and Histogram. */
export class Metric {
  private id: u32 = 0;
  constructor(readonly type: MetricType, readonly name: string) {}

  /** metricId returns the host id, defining the metric on first call; 0 if the host refused. */
  metricId(): u32 {
    if (this.id == 0) this.id = defineMetric(this.type, this.name);
    return this.id;
  }

  protected incrementBy(offset: i64): WasmResult {
    const id = this.metricId();
    if (id == 0) return WasmResult.NotFound;
    return <WasmResult>proxy_increment_metric(id, offset);
  }

  protected recordValue(value: u64): WasmResult {
    const id = this.metricId();
    if (id == 0) return WasmResult.NotFound;
    return <WasmResult>proxy_record_metric(id, value);
  }

  protected readValue(): u64 {
    const id = this.metricId();
    if (id == 0) {
      setLastResult(WasmResult.NotFound);
      return 0;
    }
    store<u64>(retWide(), 0);
    const r = setLastResult(proxy_get_metric(id, retWide()));
    return r == WasmResult.Ok ? load<u64>(retWide()) : 0;
  }
}

/** Counter is a monotonically increasing metric (Envoy rejects offsets ≤ 0 with BadArgument). */
export class Counter extends Metric {
  constructor(name: string) {
    super(MetricType.Counter, name);
  }
  /** increment adds `offset` (default 1). */
  increment(offset: i64 = 1): WasmResult {
    return this.incrementBy(offset);
  }
  /** get returns the current value (summed over workers in Envoy); 0 with lastResult() set on failure. */
  get(): u64 {
    return this.readValue();
  }
}

/** Gauge is a metric that can go up and down or be set. */
export class Gauge extends Metric {
  constructor(name: string) {
    super(MetricType.Gauge, name);
  }
  /** add changes the value by `offset` (negative to subtract). */
  add(offset: i64): WasmResult {
    return this.incrementBy(offset);
  }
  /** set replaces the value. */
  set(value: u64): WasmResult {
    return this.recordValue(value);
  }
  /** get returns the current value; 0 with lastResult() set on failure. */
  get(): u64 {
    return this.readValue();
  }
}

/** Histogram records observations (Envoy reports no readable value: get_metric is BadArgument). */
export class Histogram extends Metric {
  constructor(name: string) {
    super(MetricType.Histogram, name);
  }
  /** record adds one observation. */
  record(value: u64): WasmResult {
    return this.recordValue(value);
  }
}
