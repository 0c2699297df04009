/**
 * A manual clock: time moves only when a test advances it, and timers (ticks, callout timeouts)
 * fire in due order during `advance`. This keeps tick and timeout tests deterministic.
 *
 * Its readings have Envoy's shape: the realtime clock starts at the real wall-clock time (what
 * Envoy's time source gives), and the monotonic clock starts at this process's steady clock (on
 * Linux nanoseconds since boot, like Envoy's std::chrono::steady_clock), so it never reads 0 — Go's
 * runtime refuses to start on a zero monotonic clock. Each monotonic reading is at least 1 ns
 * after the previous one, as consecutive steady-clock reads are on a real machine.
 */

/** A scheduled timer's handle. */
export type TimerId = number;

interface Timer {
  id: TimerId;
  due: number;
  fn: () => void;
}

/** ManualClock: wall and monotonic time plus ordered timers, all under test control. */
export class ManualClock {
  private nowMs: number;
  private readonly startMs: number;
  private readonly monotonicBaseNs = process.hrtime.bigint();
  private lastMonotonicNs = 0n;
  private timers: Timer[] = [];
  private nextId = 1;
  private nowNsAt = NaN;
  private nowNsValue = 0n;

  /** @param startMs wall-clock start in ms since the epoch (default: the real time now) */
  constructor(startMs = Date.now()) {
    if (!Number.isFinite(startMs) || startMs < 0) throw new Error(`clock: startMs must be a non-negative number, got ${startMs}`);
    this.nowMs = startMs;
    this.startMs = startMs;
  }

  /** Wall time in ms since the epoch. */
  now(): number {
    return this.nowMs;
  }

  /** Wall time in ns since the epoch (proxy_get_current_time_nanoseconds, WASI clock 0). */
  nowNs(): bigint {
    // Every stream reads it at its start and the clock rarely moves in between: convert once per reading.
    if (this.nowNsAt !== this.nowMs) {
      this.nowNsValue = msToNs(this.nowMs);
      this.nowNsAt = this.nowMs;
    }
    return this.nowNsValue;
  }

  /** Monotonic time in ns (WASI clock 1): the steady clock at creation plus the time advanced since; never 0, strictly increasing. */
  monotonicNs(): bigint {
    const at = this.monotonicBaseNs + msToNs(this.nowMs - this.startMs);
    this.lastMonotonicNs = at > this.lastMonotonicNs ? at : this.lastMonotonicNs + 1n;
    return this.lastMonotonicNs;
  }

  /** schedule runs fn once, delayMs from now, during a later advance(). */
  schedule(delayMs: number, fn: () => void): TimerId {
    const timer = { id: this.nextId++, due: this.nowMs + Math.max(0, delayMs), fn };
    this.timers.push(timer);
    return timer.id;
  }

  /** cancel removes a timer; unknown ids are ignored. */
  cancel(id: TimerId | undefined): void {
    if (id !== undefined) this.timers = this.timers.filter((t) => t.id !== id);
  }

  /** nextDue returns the due time (ms) of the earliest timer, or undefined when none is set. */
  nextDue(): number | undefined {
    let due: number | undefined;
    for (const t of this.timers) if (due === undefined || t.due < due) due = t.due;
    return due;
  }

  /**
   * advance moves time forward by ms, firing each due timer at its own due time, earliest first
   * (ties in scheduling order). `afterEach` runs after every fired timer. Throws on a negative ms.
   */
  advance(ms: number, afterEach?: () => void): void {
    if (!Number.isFinite(ms) || ms < 0) throw new Error(`advanceTime: ms must be a non-negative number, got ${ms}`);
    const target = this.nowMs + ms;
    // Bounded: a timer that re-arms with period 0 is impossible (period 0 disables), so each pass
    // moves time or drains a timer; the cap guards against a runaway test anyway.
    for (let fired = 0; fired < 1_000_000; fired++) {
      let next: Timer | undefined;
      for (const t of this.timers) if (t.due <= target && (!next || t.due < next.due)) next = t;
      if (!next) break;
      this.timers = this.timers.filter((t) => t !== next);
      this.nowMs = next.due;
      next.fn();
      afterEach?.();
    }
    this.nowMs = target;
  }
}

/** Milliseconds (possibly fractional) as exact nanoseconds: ms since the epoch times 1e6 exceeds 2^53. */
function msToNs(ms: number): bigint {
  const whole = Math.trunc(ms);
  return BigInt(whole) * 1_000_000n + BigInt(Math.round((ms - whole) * 1e6));
}
