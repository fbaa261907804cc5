/**
 * @coaty/consensus.raft 1.0.0 under raftsim: its port of etcd's raft, driven through RawNode
 * (tick / step / propose / ready / advance), in process. RawNode is synchronous, so no worker
 * thread is needed; its one global, Math.random (the randomized election timeout), is made the
 * node's seeded stream by `virtualized` (src/adapter/virtualized.ts).
 *
 * sqlite3: RawNode is a deep import (ported/rawnode.js), but it pulls in the package's
 * non-ported RaftController, and through it @coaty/core's sqlite adapter, which requires the
 * native sqlite3 module at load time. Nothing here opens a database, so sqlite3 is STUBBED in
 * the require cache before the library loads: the adapter works whether or not npm built
 * sqlite3's native binding (npm 11 may skip that install script).
 *
 * The application side follows etcd's raftexample:
 *  - storage: a MemoryStorage rebuilt at every start from host.storage: hard state under "hs",
 *    entries under "e/<index>", synced before the Ready's messages are sent;
 *  - the initial configuration is a snapshot at index 0 whose ConfState names the members
 *    (etcd's test bootstrap);
 *  - every committed entry (commands, and the empty entry each new leader appends) goes to
 *    host.apply in order; after a restart etcd replays them from index 1 (config.applied = 0);
 *  - a node whose disk failed a checksum (corruption fault) refuses to start and stays silent;
 *  - configuration as coaty's own RaftNode sets it: preVote and checkQuorum on;
 *  - one tick = heartbeatMs; electionTick = electionTimeoutMinMs / heartbeatMs, so etcd's
 *    randomized timeout falls in [min, 2 * min).
 */
import { createRequire } from 'node:module';
import { isCorrupted, type Command, type LogView, NodeHost, NodeView, ProposeResult, RaftFactory, RaftNode, Role } from '../../src/adapter/contract.ts';
import { virtualized } from '../../src/adapter/virtualized.ts';

const require = createRequire(import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

const sqlite3Path = require.resolve('sqlite3');
if (!require.cache[sqlite3Path]) {
  const stub = new Proxy({}, { get: () => { throw new Error('sqlite3 is stubbed by raftsim\'s coaty adapter: no database is used'); } });
  require.cache[sqlite3Path] = { id: sqlite3Path, filename: sqlite3Path, loaded: true, exports: stub } as unknown as NodeJS.Module;
}

const { RawNode } = require('@coaty/consensus.raft/ported/rawnode.js') as Any;
const { RaftConfig, StateType } = require('@coaty/consensus.raft/ported/raft.js') as Any;
const { MemoryStorage } = require('@coaty/consensus.raft/ported/storage.js') as Any;
const { setLogger } = require('@coaty/consensus.raft/ported/logger.js') as Any;
const pb = require('@coaty/consensus.raft/ported/raftpb/raft.pb.js') as Any;

// The library's default logger calls process.exit(1) on fatalf: make every fatal a thrown error,
// which the engine reports as an adapter-error finding with the seed.
const quiet = (): void => {};
setLogger({
  infof: quiet, warningf: quiet, errorf: quiet, debugf: quiet,
  fatalf: (format: string, ...args: unknown[]) => { throw new Error(`consensus.raft fatal: ${format} ${args.map(String).join(' ')}`); },
  panicf: (format: string, ...args: unknown[]) => { throw new Error(`consensus.raft panic: ${format} ${args.map(String).join(' ')}`); },
  enableDebug: quiet,
});

const ROLES: Record<number, Role> = {
  [StateType.StateFollower]: 'follower',
  [StateType.StateCandidate]: 'candidate',
  [StateType.StateLeader]: 'leader',
  [StateType.StatePreCandidate]: 'precandidate',
};

const entryKey = (index: number): string => `e/${String(index).padStart(10, '0')}`;

interface StoredEntry {
  readonly term: number;
  readonly type: number;
  readonly data: unknown;
}

/**
 * A node whose disk holds a value that fails its checksum (a corruption fault) does not start,
 * as an etcd-style application refuses to start on a WAL CRC mismatch; it stays silent.
 */
function refusingNode(term: number): RaftNode {
  return { receive() {}, propose: () => ({ accepted: false }), inspect: () => ({ role: 'follower', term }) };
}

const createCoatyRaft: RaftFactory = (host: NodeHost, config) => {
  const disk = host.storage;
  if (disk.keys('').some((key) => isCorrupted(disk.get(key)))) {
    const hs = disk.get('hs');
    return refusingNode(isCorrupted(hs) ? 0 : ((hs as { term?: number } | undefined)?.term ?? 0));
  }
  const voters = [...config.initialMembers];
  const bootstrap = new pb.Snapshot({ metadata: { index: 0, term: 0, confState: { voters } } });
  const stored = disk.get('hs') as { term: number; vote: string; commit: number } | undefined;
  const ents: Any[] = [new pb.Entry({ index: 0, term: 0 })];
  for (const key of disk.keys('e/')) {
    const value = disk.get(key) as StoredEntry;
    const index = Number(key.slice(2));
    if (index !== ents.length) break; // a gap (torn write): keep the contiguous prefix
    ents.push(new pb.Entry({ index, term: value.term, type: value.type, data: value.data }));
  }
  const storage = new MemoryStorage({ hardState: new pb.HardState(stored ?? {}), snapshot: bootstrap, ents });
  const heartbeatMs = config.timing.heartbeatMs;
  const electionTick = Math.max(2, Math.round(config.timing.electionTimeoutMinMs / heartbeatMs));
  const rawNode = RawNode.NewRawNode(
    new RaftConfig({
      id: host.id,
      electionTick,
      heartbeatTick: 1,
      storage,
      applied: 0,
      maxSizePerMsg: 1024 * 1024,
      maxInflightMsgs: 256,
      maxUncommittedEntriesSize: 1 << 30,
      maxCommittedSizePerReady: 1 << 30,
      preVote: true,
      checkQuorum: true,
    }),
  );
  let stopped = false;

  /** etcd's Ready loop: persist, then send, then apply, then advance. */
  const handleReady = (): void => {
    while (!stopped && rawNode.hasReady()) {
      const rd = rawNode.ready();
      if (!rd.hardState.isEmptyHardState()) {
        storage.SetHardState(rd.hardState);
        disk.put('hs', { term: rd.hardState.term, vote: rd.hardState.vote, commit: rd.hardState.commit });
      }
      if (rd.entries.length > 0) {
        const [lastBefore] = storage.LastIndex(); // [index, error], as in the Go original
        const err = storage.Append(rd.entries);
        if (err) throw err;
        for (const e of rd.entries) disk.put(entryKey(e.index), { term: e.term, type: e.type, data: e.data });
        const newLast = rd.entries[rd.entries.length - 1].index;
        for (let i = newLast + 1; i <= lastBefore; i++) disk.delete(entryKey(i));
      }
      if (rd.mustSync || rd.entries.length > 0 || !rd.hardState.isEmptyHardState()) disk.sync();
      for (const m of rd.messages) host.send(m.to, structuredClone(m));
      for (const e of rd.committedEntries) {
        if (e.type === pb.EntryType.EntryNormal) host.apply(e.index, e.data ?? null);
        else host.apply(e.index, { confChange: e.type });
      }
      rawNode.advance(rd);
    }
  };

  const tick = (): void => {
    if (stopped) return;
    rawNode.tick();
    handleReady();
    host.setTimer(heartbeatMs, tick);
  };
  // Nodes do not start in lockstep: the first tick comes after a random part of a tick.
  host.setTimer(heartbeatMs * host.random(), tick);
  handleReady();

  const view = (): NodeView => {
    const raft = rawNode.raft;
    const [first] = storage.FirstIndex();
    const [last] = storage.LastIndex();
    const all = storage.ents as Any[];
    const offset = all[0].index;
    const log: LogView = {
      snapshotIndex: first - 1,
      snapshotTerm: all[0].term,
      lastIndex: last,
      termAt: (index) => all[index - offset].term,
      commandAt: (index) => all[index - offset].data,
    };
    return {
      role: ROLES[raft.state as number] ?? 'follower',
      term: raft.term,
      votedFor: raft.vote === '' ? null : raft.vote,
      commitIndex: raft.raftLog.committed,
      members: voters,
      log,
    };
  };

  const node: RaftNode = {
    receive(_from, message) {
      const err = rawNode.step(new pb.Message(message as Any));
      if (err && !/step peer not found|local message/.test(String(err.message))) throw err;
      handleReady();
    },
    propose(command: Command): ProposeResult {
      const raft = rawNode.raft;
      if (raft.state !== StateType.StateLeader) return { accepted: false, ...(raft.lead ? { leaderHint: raft.lead } : {}) };
      const err = rawNode.propose(command);
      if (err) return { accepted: false };
      const index = raft.raftLog.lastIndex();
      const term = raft.term;
      handleReady();
      return { accepted: true, index, term };
    },
    inspect: view,
    stop() {
      stopped = true;
    },
  };
  return node;
};

export const createRaft = virtualized(createCoatyRaft);
export default createRaft;
