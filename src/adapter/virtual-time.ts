import FakeTimers from '@sinonjs/fake-timers';

/**
 * Virtual time and randomness for code written against Node's real globals.
 *
 * `VirtualGlobals` replaces setTimeout / setInterval / setImmediate (and their clear*),
 * Date, performance.now, process.hrtime and Math.random on a global object with versions driven
 * by a `ClockSource` — in raftsim, the node's NodeHost: host.now(), host.setTimer(),
 * host.clearTimer(), host.random(). An event-driven library then runs deterministically without
 * a change to its code: its timers become simulator events, its clock is the node's skewable
 * virtual clock, its randomness is the node's seeded stream.
 *
 * Date comes from an @sinonjs/fake-timers clock (a complete Date replacement) whose time we set
 * to the source's `now()` before each use. Timers are our own: a library timer is exactly one
 * host timer, so the engine orders it with every other event by (virtual time, sequence).
 * setImmediate callbacks are queued and run by `runImmediates()`, which the owner calls when the
 * current event is otherwise finished (see src/adapter/thread-host.ts): the same virtual instant,
 * after the microtasks — as in Node's event loop.
 *
 * The source can be swapped (`attach`) so one installation can serve several nodes in turn.
 * process.nextTick and queueMicrotask are left real: without real I/O they are deterministic.
 */
export interface ClockSource {
  now(): number;
  setTimer(delayMs: number, fire: () => void): number;
  clearTimer(handle: number): void;
  random(): number;
}

/** What setTimeout returns: Node's Timeout API (ref/unref/refresh) around a numeric id. */
class VirtualTimeout {
  constructor(
    readonly id: number,
    private readonly owner: VirtualGlobals,
  ) {}
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
  hasRef(): boolean {
    return true;
  }
  refresh(): this {
    this.owner.refresh(this.id);
    return this;
  }
  close(): this {
    this.owner.clear(this.id);
    return this;
  }
  [Symbol.toPrimitive](): number {
    return this.id;
  }
}

interface TimerRecord {
  handle: number;
  readonly delay: number;
  readonly repeat: boolean;
  readonly callback: () => void;
}

const FAKED = ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'clearImmediate', 'Date'] as const;

export class VirtualGlobals {
  private source: ClockSource | undefined;
  private readonly clock = FakeTimers.createClock(0);
  private readonly timers = new Map<number, TimerRecord>();
  private immediates: { id: number; callback: () => void }[] = [];
  private nextId = 1;
  private saved: Map<string, PropertyDescriptor | undefined> | undefined;
  private savedMathRandom: (() => number) | undefined;
  private savedPerformanceNow: PropertyDescriptor | undefined;
  private savedHrtime: NodeJS.HRTime | undefined;
  /** Calls made while no source was attached (none should happen): for diagnostics. */
  readonly strays: string[] = [];

  constructor(private readonly target: typeof globalThis = globalThis) {}

  /** The node whose clock, timers and random stream the globals now use. Pending timers are dropped. */
  attach(source: ClockSource): void {
    this.source = source;
    this.timers.clear();
    this.immediates = [];
  }

  detach(): void {
    this.source = undefined;
    this.timers.clear();
    this.immediates = [];
  }

  /** Virtual time now, in ms (the node's own clock). */
  now(): number {
    const source = this.source;
    if (!source) {
      this.strays.push('clock read with no node attached');
      return 0;
    }
    return source.now();
  }

  /** Replaces the globals. Returns a function that puts the originals back. */
  install(): () => void {
    if (this.saved) throw new Error('VirtualGlobals: already installed');
    const target = this.target as unknown as Record<string, unknown>;
    this.saved = new Map(FAKED.map((name) => [name, Object.getOwnPropertyDescriptor(target, name)]));
    const self = this;
    const define = (name: string, value: unknown): void => {
      Object.defineProperty(target, name, { value, writable: true, configurable: true, enumerable: false });
    };
    define('setTimeout', (callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => self.add(callback, ms, args, false));
    define('setInterval', (callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => self.add(callback, ms, args, true));
    define('clearTimeout', (handle: unknown) => self.clear(handle));
    define('clearInterval', (handle: unknown) => self.clear(handle));
    define('setImmediate', (callback: (...args: unknown[]) => void, ...args: unknown[]) => {
      const id = self.nextId++;
      self.immediates.push({ id, callback: () => callback(...args) });
      return new VirtualTimeout(id, self);
    });
    define('clearImmediate', (handle: unknown) => {
      const id = Number(handle);
      self.immediates = self.immediates.filter((entry) => entry.id !== id);
    });
    const clock = this.clock;
    const FakeDate = clock.Date;
    const sync = (): void => {
      clock.setSystemTime(self.now());
    };
    // A Date whose every read of "now" first catches up with the node's virtual clock.
    const VirtualDate = new Proxy(FakeDate, {
      construct(targetDate, args, newTarget) {
        if (args.length === 0) sync();
        return Reflect.construct(targetDate, args, newTarget);
      },
      apply(targetDate, thisArg, args) {
        sync();
        return Reflect.apply(targetDate, thisArg, args);
      },
      get(targetDate, property, receiver) {
        if (property === 'now') return () => Math.floor(self.now());
        return Reflect.get(targetDate, property, receiver);
      },
    });
    define('Date', VirtualDate);
    this.savedMathRandom = Math.random;
    Math.random = () => {
      const source = self.source;
      if (!source) {
        self.strays.push('Math.random with no node attached');
        return 0.5;
      }
      return source.random();
    };
    const performance = this.target.performance;
    this.savedPerformanceNow = Object.getOwnPropertyDescriptor(performance, 'now');
    Object.defineProperty(performance, 'now', { value: () => self.now(), writable: true, configurable: true });
    const proc = (this.target as { process?: NodeJS.Process }).process;
    if (proc) {
      this.savedHrtime = proc.hrtime;
      const hrtime = ((previous?: [number, number]) => {
        const ns = BigInt(Math.round(self.now() * 1e6));
        let seconds = Number(ns / 1_000_000_000n);
        let nanos = Number(ns % 1_000_000_000n);
        if (previous) {
          seconds -= previous[0];
          nanos -= previous[1];
          if (nanos < 0) {
            seconds--;
            nanos += 1e9;
          }
        }
        return [seconds, nanos] as [number, number];
      }) as NodeJS.HRTime;
      hrtime.bigint = () => BigInt(Math.round(self.now() * 1e6));
      proc.hrtime = hrtime;
    }
    return () => this.uninstall();
  }

  uninstall(): void {
    if (!this.saved) return;
    const target = this.target as unknown as Record<string, unknown>;
    for (const [name, descriptor] of this.saved) {
      if (descriptor) Object.defineProperty(target, name, descriptor);
      else delete target[name];
    }
    this.saved = undefined;
    if (this.savedMathRandom) Math.random = this.savedMathRandom;
    if (this.savedPerformanceNow) Object.defineProperty(this.target.performance, 'now', this.savedPerformanceNow);
    else delete (this.target.performance as unknown as Record<string, unknown>).now;
    const proc = (this.target as { process?: NodeJS.Process }).process;
    if (proc && this.savedHrtime) proc.hrtime = this.savedHrtime;
  }

  /** Runs the queued setImmediate callbacks (those queued meanwhile wait for the next call). Returns how many ran. */
  runImmediates(): number {
    const batch = this.immediates;
    this.immediates = [];
    for (const entry of batch) entry.callback();
    return batch.length;
  }

  get pendingImmediates(): number {
    return this.immediates.length;
  }

  /** Number of library timers currently armed. */
  get pendingTimers(): number {
    return this.timers.size;
  }

  private add(callback: (...args: unknown[]) => void, ms: number | undefined, args: unknown[], repeat: boolean): VirtualTimeout {
    const id = this.nextId++;
    // Node coerces: a missing, negative or non-finite delay is 1 ms.
    let delay = Number(ms);
    if (!(delay >= 1 && delay <= 2147483647)) delay = 1;
    const record: TimerRecord = { handle: 0, delay, repeat, callback: () => callback(...args) };
    this.timers.set(id, record);
    this.arm(id, record);
    return new VirtualTimeout(id, this);
  }

  private arm(id: number, record: TimerRecord): void {
    const source = this.source;
    if (!source) {
      this.strays.push('a timer set with no node attached');
      return;
    }
    record.handle = source.setTimer(record.delay, () => {
      if (this.timers.get(id) !== record) return;
      if (record.repeat) this.arm(id, record);
      else this.timers.delete(id);
      record.callback();
    });
  }

  /** Restarts a timer's delay from now (Timeout#refresh). */
  refresh(id: number): void {
    const record = this.timers.get(id);
    if (!record || !this.source) return;
    this.source.clearTimer(record.handle);
    this.arm(id, record);
  }

  clear(handle: unknown): void {
    if (handle === undefined || handle === null) return;
    const id = Number(handle);
    const record = this.timers.get(id);
    if (!record) return;
    this.timers.delete(id);
    this.source?.clearTimer(record.handle);
  }
}
