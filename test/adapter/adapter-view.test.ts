import { describe, expect, it } from 'vitest';
import { adapterViewChecker } from '../../src/adapter/conformance.ts';
import { CLUSTER, log, spec, view } from '../invariants/helpers.ts';

/**
 * check-adapter's view checker on hand-made histories. The restart rule: the disk may lose
 * writes, never add entries, so a restarted node's log ends no later than before its crash (the
 * coaty adapter once kept a truncated tail on disk and read it back: adapters/coaty/README.md).
 */
describe('adapter-view: a restart brings back no entry', () => {
  const crashAndRestart = (before: string, after: string, afterSnapshot = 0, afterSnapshotTerm = 0) => {
    const checker = adapterViewChecker.create(CLUSTER);
    expect(checker.afterStep?.('n2', view('follower', 2, { commitIndex: 1, log: log(spec(before)) }), 100)).toBeUndefined();
    checker.onCrash?.('n2', 200);
    return checker.onRestart?.('n2', view('follower', 2, { commitIndex: 0, log: log(spec(after), afterSnapshot, afterSnapshotTerm) }), 300);
  };

  it('flags a log that is longer after the restart: a deleted tail read back from disk', () => {
    // Before the crash the new leader's entry of term 2 had replaced index 2 and what followed it.
    const v = crashAndRestart('1:a 2:x', '1:a 2:x 1:c 1:d');
    expect(v?.invariant).toBe('adapter-view');
    expect(v?.message).toMatch(/n2: inspect\(\) shows a log ending at index 4 after its restart, but it ended at 2 before the crash/);
  });

  it('flags a different term at the same last index', () => {
    const v = crashAndRestart('1:a 2:x', '1:a 1:b');
    expect(v?.message).toMatch(/shows term 1 at its last index 2 after its restart, but term 2 there before the crash/);
  });

  it('passes the same log, a shorter one (lost unsynced writes) and a snapshot-only restart', () => {
    expect(crashAndRestart('1:a 2:x 2:y', '1:a 2:x 2:y')).toBeUndefined();
    expect(crashAndRestart('1:a 2:x 2:y', '1:a')).toBeUndefined();
    expect(crashAndRestart('1:a 2:x 2:y', '', 2, 2)).toBeUndefined();
    expect(crashAndRestart('1:a 2:x 2:y', '2:y', 2, 2)).toBeUndefined();
  });
});
