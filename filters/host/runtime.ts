/**
 * Process-wide state of one emulated Envoy (proxy-wasm-host.md §4.1): the clock, shared data with
 * its global CAS counter, shared queues, the stats store, posted async work and the log record.
 * Every worker VM and every plugin of a chain shares one Runtime, as they share one Envoy process.
 */
import { ManualClock } from "./clock.ts";
import { type LogLevelName } from "./abi.ts";

/** One recorded log line. */
export interface LogEntry {
  level: LogLevelName;
  /** The guest's message (or the host's, for source "envoy"). */
  message: string;
  /** The line as Envoy prints it: `wasm log <plugin_name> <root_id> <vm_id>: <message>`. */
  line: string;
  source: "wasm" | "envoy";
  pluginName: string;
  worker: number;
  contextId: number;
}

/** A metric in the process-wide stats store. */
export interface MetricValue {
  type: "counter" | "gauge" | "histogram";
  value: bigint;
  samples: bigint[];
}

/** A shared queue: items, and the root context that receives on_queue_ready. */
export interface SharedQueue {
  token: number;
  vmId: string;
  name: string;
  items: Uint8Array[];
  notify?: (token: number) => void;
}

/** Someone in waitOutstanding(): its promise's settle functions and its real-time bound. */
interface Waiter {
  resolve(timedOut: boolean): void;
  reject(error: unknown): void;
  timer: NodeJS.Timeout | undefined;
}

/** Runtime: the shared world of one emulated Envoy process. Create one per test or per chain. */
export class Runtime {
  readonly clock: ManualClock;
  readonly logs: LogEntry[] = [];
  readonly metrics = new Map<string, MetricValue>();
  private readonly sharedData = new Map<string, Map<string, { value: Uint8Array; cas: number }>>();
  private cas = 0;
  private readonly queues = new Map<string, SharedQueue>();
  private readonly queuesByToken = new Map<number, SharedQueue>();
  private nextQueueToken = 1;
  private posted: (() => void)[] = [];
  /** Tracked async work not settled yet, and who waits for the next one to settle. */
  private outstanding = 0;
  private waiters: Waiter[] = [];

  constructor(clock?: ManualClock) {
    this.clock = clock ?? new ManualClock();
  }

  /** getSharedData returns (value, cas) for vmId/key, or undefined when absent. */
  getSharedData(vmId: string, key: string): { value: Uint8Array; cas: number } | undefined {
    return this.sharedData.get(vmId)?.get(key);
  }

  /**
   * setSharedData stores a value with a new global CAS (starting at 1, never 0). Returns false on a
   * CAS mismatch: the key exists, cas != 0 and cas differs from the stored one.
   */
  setSharedData(vmId: string, key: string, value: Uint8Array, cas: number): boolean {
    let data = this.sharedData.get(vmId);
    if (!data) this.sharedData.set(vmId, (data = new Map()));
    const existing = data.get(key);
    if (existing && cas !== 0 && cas !== existing.cas) return false;
    this.cas = (this.cas + 1) >>> 0 || 1;
    data.set(key, { value, cas: this.cas });
    return true;
  }

  /** registerQueue returns the queue's token, creating it; the receiver becomes `notify`. */
  registerQueue(vmId: string, name: string, notify: (token: number) => void): number {
    const key = `${vmId}\0${name}`;
    let queue = this.queues.get(key);
    if (!queue) {
      queue = { token: this.nextQueueToken++, vmId, name, items: [] };
      this.queues.set(key, queue);
      this.queuesByToken.set(queue.token, queue);
    }
    queue.notify = notify;
    return queue.token;
  }

  /** resolveQueue returns the token of vmId/name, or undefined. */
  resolveQueue(vmId: string, name: string): number | undefined {
    return this.queues.get(`${vmId}\0${name}`)?.token;
  }

  /** queue returns the queue for a token, or undefined. */
  queue(token: number): SharedQueue | undefined {
    return this.queuesByToken.get(token);
  }

  /** post schedules fn to run after the current event (like posting to a dispatcher). */
  post(fn: () => void): void {
    this.posted.push(fn);
  }

  /**
   * runPending runs posted work FIFO, including work posted meanwhile, up to `limit` items.
   * Throws if the limit is hit, which means two callbacks keep re-posting each other.
   */
  runPending(limit = 100_000): void {
    if (this.posted.length === 0) return;
    for (let n = 0; this.posted.length > 0; n++) {
      if (n >= limit) throw new Error(`runPending: more than ${limit} posted callbacks; a queue or callout loop?`);
      this.posted.shift()!();
    }
  }

  /** track registers async work (a cluster handler's promise) that settle() must wait for. */
  track(work: Promise<unknown>): void {
    this.outstanding++;
    work.then(
      () => this.settled(undefined),
      (error: unknown) => this.settled({ error }),
    );
  }

  private settled(failure: { error: unknown } | undefined): void {
    this.outstanding--;
    const waiters = this.waiters;
    if (waiters.length === 0) return;
    this.waiters = [];
    for (const w of waiters) {
      if (w.timer !== undefined) clearTimeout(w.timer);
      if (failure) w.reject(failure.error);
      else w.resolve(false);
    }
  }

  private timedOut(waiter: Waiter): void {
    const i = this.waiters.indexOf(waiter);
    if (i >= 0) this.waiters.splice(i, 1);
    waiter.resolve(true);
  }

  /** True while tracked async work is unfinished or posted work is waiting. */
  get busy(): boolean {
    return this.outstanding > 0 || this.posted.length > 0;
  }

  /** settle runs posted work and waits for tracked async work until neither is left. */
  async settle(): Promise<void> {
    for (;;) {
      this.runPending();
      if (this.outstanding === 0) return;
      await this.waitOutstanding();
    }
  }

  /**
   * waitOutstanding waits until some tracked async work settles, or `ms` of real time passes.
   * Resolves true when the time ran out first (false immediately when nothing is tracked).
   */
  waitOutstanding(ms?: number): Promise<boolean> {
    if (this.outstanding === 0) return Promise.resolve(false);
    // Tracked work includes its own .then() (the post of its delivery), so once it settles the
    // delivery is already posted and the caller can run it. A rejected work rejects the wait.
    return new Promise<boolean>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, timer: undefined };
      this.waiters.push(waiter);
      if (ms !== undefined) waiter.timer = setTimeout(() => this.timedOut(waiter), ms);
    });
  }

  /** metric returns (creating on first use) the process-wide stat of that name. */
  metric(name: string, type: MetricValue["type"]): MetricValue {
    let m = this.metrics.get(name);
    if (!m) this.metrics.set(name, (m = { type, value: 0n, samples: [] }));
    return m;
  }
}
