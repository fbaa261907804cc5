/**
 * @markwylde/liferaft 1.4.0 as a raftsim node. This module runs inside a worker thread under
 * src/adapter/threaded.ts (see adapter.ts): liferaft is promise-based and uses the global
 * timers, Date and Math.random, which are virtual there. The library is used unchanged:
 *  - transport: liferaft's `join(address, write)` peers write through host.send; a packet that
 *    arrives is emitted as liferaft's 'data' event, with a `write` that replies through host.send;
 *  - log: liferaft's own Log class (levelup + encoding-down) over an abstract-leveldown store
 *    backed by the node's simulated disk (host.storage, key prefix "log/"), synced at every write
 *    — the model of a process crash with leveldown's default writes, which the OS keeps;
 *  - state machine: liferaft commits an entry by calling Log#commit(index); the adapter hands
 *    that entry to host.apply. After a restart it first re-applies the entries its log marks
 *    committed (standing in for the application state an app would have persisted);
 *  - propose: liferaft's `command()`, which is asynchronous; the index is the one liferaft's
 *    Log#saveCommand chose for it.
 *  - a corrupted value (corruption fault) makes the store answer leveldown's "Corruption" error
 *    while running; a node whose disk holds one at start does not start (stays silent).
 * liferaft keeps its term and vote in memory only; that is the library's design, not ours.
 */
import { createRequire } from 'node:module';
import { isCorrupted, type Command, type DurableStorage, type LogView, type NodeHost, type NodeView, type ProposeResult, type RaftFactory, type Role } from '../../src/adapter/contract.ts';

const require = createRequire(import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;
const LifeRaft = require('@markwylde/liferaft') as Any;
const LifeLog = require('@markwylde/liferaft/log') as Any;
const { AbstractLevelDOWN, AbstractIterator } = require('abstract-leveldown') as Any;

const PREFIX = 'log/';

interface Entry {
  readonly term: number;
  readonly index: number;
  readonly committed: boolean;
  readonly command: unknown;
}

/** An abstract-leveldown store over host.storage: keys kept sorted, values stored as given (JSON strings). */
function hostDown(storage: DurableStorage, onChange: (key: string, value: string | undefined) => void): Any {
  const keys: string[] = storage.keys(PREFIX).map((k) => k.slice(PREFIX.length));
  const find = (key: string): number => {
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (keys[mid]! < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  class HostIterator extends AbstractIterator {
    private readonly list: string[];
    private position = 0;
    constructor(db: Any, options: Any) {
      super(db);
      let list = keys.filter(
        (k) =>
          (options.gt === undefined || k > options.gt) &&
          (options.gte === undefined || k >= options.gte) &&
          (options.lt === undefined || k < options.lt) &&
          (options.lte === undefined || k <= options.lte),
      );
      if (options.reverse) list = list.reverse();
      if (options.limit >= 0) list = list.slice(0, options.limit);
      this.list = list; // a snapshot, as leveldown's iterators are
    }
    _next(callback: Any): void {
      if (this.position >= this.list.length) return this._nextTick(callback);
      const key = this.list[this.position++]!;
      const value = storage.get(PREFIX + key);
      if (isCorrupted(value)) return this._nextTick(callback, new Error(`Corruption: checksum mismatch in ${key}`));
      this._nextTick(callback, null, key, value);
    }
  }
  class HostDown extends AbstractLevelDOWN {
    constructor() {
      super({ bufferKeys: false, snapshots: true, permanence: true });
    }
    _open(_options: Any, callback: Any): void {
      this._nextTick(callback);
    }
    _serializeKey(key: unknown): string {
      return String(key);
    }
    _serializeValue(value: unknown): string {
      return String(value);
    }
    _put(key: string, value: string, _options: Any, callback: Any): void {
      write(key, value);
      storage.sync();
      this._nextTick(callback);
    }
    _get(key: string, _options: Any, callback: Any): void {
      const value = storage.get(PREFIX + key);
      if (value === undefined) return this._nextTick(callback, new Error('NotFound'));
      // What leveldown answers for a block that fails its checksum.
      if (isCorrupted(value)) return this._nextTick(callback, new Error(`Corruption: checksum mismatch in ${key}`));
      this._nextTick(callback, null, value);
    }
    _del(key: string, _options: Any, callback: Any): void {
      write(key, undefined);
      storage.sync();
      this._nextTick(callback);
    }
    _batch(operations: Any[], _options: Any, callback: Any): void {
      for (const op of operations) write(op.key, op.type === 'put' ? op.value : undefined);
      storage.sync();
      this._nextTick(callback);
    }
    _iterator(options: Any): Any {
      return new HostIterator(this, options);
    }
  }
  function write(key: string, value: string | undefined): void {
    const at = find(key);
    if (value === undefined) {
      storage.delete(PREFIX + key);
      if (keys[at] === key) keys.splice(at, 1);
    } else {
      storage.put(PREFIX + key, value);
      if (keys[at] !== key) keys.splice(at, 0, key);
    }
    onChange(key, value);
  }
  return new HostDown();
}

const ROLES: Record<number, Role> = { [LifeRaft.LEADER]: 'leader', [LifeRaft.CANDIDATE]: 'candidate', [LifeRaft.FOLLOWER]: 'follower' };

export const createRaft: RaftFactory = (host: NodeHost, config) => {
  // A disk with a value that fails its checksum: the node does not start (leveldown would
  // refuse the damaged log); it stays silent.
  if (host.storage.keys('').some((key) => isCorrupted(host.storage.get(key)))) {
    return { receive() {}, propose: () => ({ accepted: false }), inspect: () => ({ role: 'follower', term: 0 }) };
  }
  // The log as parsed entries by index, kept in step with the store (for inspect()).
  const entries = new Map<number, Entry>();
  let lastIndex = 0;
  const parse = (key: string, raw: unknown): void => {
    const index = parseInt(key, 16);
    if (isCorrupted(raw)) return; // the view keeps what was written; reads of it now fail
    if (raw === undefined || typeof raw !== 'string') {
      entries.delete(index);
    } else {
      const entry = JSON.parse(raw) as Entry;
      const old = entries.get(index);
      // Keep the old object when term and command are unchanged (a commit flag or an ack flipped).
      if (!old || old.term !== entry.term || JSON.stringify(old.command) !== JSON.stringify(entry.command)) entries.set(index, entry);
    }
    lastIndex = entries.size === 0 ? 0 : Math.max(...entries.keys());
  };
  for (const key of host.storage.keys(PREFIX)) parse(key.slice(PREFIX.length), host.storage.get(key));
  const down = hostDown(host.storage, parse);

  // Re-apply what this node's log says was committed, in order, before anything else happens.
  let applied = 0;
  while (applied < lastIndex) {
    const raw = host.storage.get(PREFIX + (applied + 1).toString(16).padStart(8, '0'));
    if (typeof raw !== 'string' || !(JSON.parse(raw) as Entry).committed) break;
    applied++;
    host.apply(applied, (JSON.parse(raw) as Entry).command);
  }

  const savedIndex = new Map<string, number>();
  class SimLog extends LifeLog {
    constructor(node: Any, options: Any) {
      super(node, { ...options, adapter: () => down });
    }
    async saveCommand(command: Any, term: number, index?: number): Promise<Entry> {
      const entry = (await super.saveCommand(command, term, index)) as Entry;
      if (command && typeof command.id === 'string') savedIndex.set(command.id, entry.index);
      return entry;
    }
    async commit(index: number): Promise<unknown> {
      const entry = (await (this as Any).get(index)) as Entry;
      const result = await super.commit(index);
      applied = index;
      host.apply(index, entry.command);
      return result;
    }
  }

  const raft: Any = new LifeRaft({
    address: host.id,
    'election min': config.timing.electionTimeoutMinMs,
    'election max': config.timing.electionTimeoutMaxMs,
    heartbeat: config.timing.heartbeatMs,
    Log: SimLog,
  });
  raft.on('error', () => {
    // liferaft reports stale terms and refused votes as 'error' events; they are protocol chatter.
  });
  // liferaft's transports (axon, WebSocket, …) carry packets as JSON; so does this one. That
  // matters: on a stale term liferaft writes `raft.packet(...)` without `await`, i.e. a Promise,
  // which JSON turns into {} (see README, "Findings").
  const wire = (packet: unknown): unknown => JSON.parse(JSON.stringify(packet) ?? 'null');
  for (const peer of config.initialMembers) {
    if (peer === host.id) continue;
    raft.join(peer, (packet: unknown) => host.send(peer, wire(packet)));
  }

  const view = (): NodeView => {
    const log: LogView = {
      snapshotIndex: 0,
      snapshotTerm: 0,
      lastIndex,
      termAt(index) {
        const entry = entries.get(index);
        if (!entry) throw new Error(`liferaft's log has no entry ${index} below its last entry ${lastIndex} (a hole)`);
        return entry.term;
      },
      commandAt: (index) => entries.get(index)?.command,
    };
    for (let i = lastIndex; i > 0 && i > lastIndex - 2; i--) log.termAt(i);
    return {
      role: ROLES[raft.state as number] ?? 'follower',
      term: raft.term as number,
      votedFor: (raft.votes?.for as string | null) ?? null,
      commitIndex: (raft.log?.committedIndex as number) ?? 0,
      members: [...config.initialMembers],
      log,
    };
  };

  return {
    receive(from: string, message: unknown) {
      raft.emit('data', message, (reply: unknown) => {
        if (reply !== undefined) host.send(from, wire(reply));
      });
    },
    propose(command: Command): ProposeResult | Promise<ProposeResult> {
      if (raft.state !== LifeRaft.LEADER) return { accepted: false, ...(raft.leader ? { leaderHint: raft.leader as string } : {}) };
      const term = raft.term as number;
      return (raft.command(command) as Promise<void>).then(
        (): ProposeResult => {
          const index = savedIndex.get(command.id);
          savedIndex.delete(command.id);
          return index === undefined ? { accepted: false } : { accepted: true, index, term };
        },
        (): ProposeResult => ({ accepted: false }),
      );
    },
    inspect: view,
    stop() {
      raft.end();
    },
  } as never;
};
