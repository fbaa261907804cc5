import fc from 'fast-check';
import type { KnobSpace, NodeId } from '../adapter/contract.ts';
import { nodeIds, type Scenario } from '../sim/scenario.ts';
import { FAULT_KINDS, FAULT_PLAN_VERSION, withKnobs, type FaultAction, type FaultKind, type FaultPlan, type NodeRef } from './plan.ts';

/**
 * fast-check arbitraries for fault plans, swarm-testing style (Groce et al. 2012; FoundationDB's
 * "buggify", TigerBeetle's VOPR): every run first draws a *swarm* — a random non-empty subset of
 * the allowed fault kinds, how many episodes, how harsh the link faults are, how often faults aim
 * at the current leader — and only then the actions. Runs thus differ in kind, not only in
 * detail: a run with crashes only stresses recovery far harder than one where crashes are one
 * kind in thirteen.
 *
 * Actions come in *episodes* that make sense together: a crash and (maybe) a later restart of the
 * same node, a partition and (maybe) its heal, a corruption followed by the crash and restart
 * that makes the node read its disk, a membership change that removes a member and later adds it
 * back. Times are absolute, so removing one episode while shrinking leaves the others in place;
 * the closing half of an episode is an `fc.option`, so shrinking first tries without it.
 */

/** The generator config of a scenario (`scenario.generate`); every field optional. */
export interface GeneratorConfig {
  /** Fault kinds the generator may use (default: all). */
  readonly kinds: readonly FaultKind[];
  /** Upper bound on the number of actions in a plan (default 40). */
  readonly maxActions: number;
  /** No fault before this virtual time (default 0). */
  readonly startMs: number;
  /** Clock-rate skew range (default [0.5, 2]). */
  readonly skew: { readonly min: number; readonly max: number };
  /** Highest message drop rate a link fault may set (default 0.6). */
  readonly maxDropRate: number;
  /** Draw the implementation's knobs for each run (default true; see knobsArbitrary). */
  readonly knobs: boolean;
}

export const DEFAULT_GENERATOR: GeneratorConfig = {
  kinds: FAULT_KINDS,
  maxActions: 40,
  startMs: 0,
  skew: { min: 0.5, max: 2 },
  maxDropRate: 0.6,
  knobs: true,
};

const GENERATOR_FIELDS: Record<string, string> = {
  kinds: `a non-empty list of fault kinds from: ${FAULT_KINDS.join(', ')}`,
  maxActions: 'an integer from 0 to 200',
  startMs: 'a number of virtual milliseconds >= 0, below faultWindowMs',
  skew: 'an object { min, max } with 0.1 <= min <= max <= 10',
  maxDropRate: 'a number from 0 to 1',
  knobs: "true or false: whether each run draws the implementation's knobs",
};

/** Validates `scenario.generate`; errors name the field and what it should be. */
export function parseGeneratorConfig(value: unknown, source: string, faultWindowMs = Number.POSITIVE_INFINITY): GeneratorConfig {
  if (value === undefined) return DEFAULT_GENERATOR;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`${source}: "generate" must be an object with optional fields ${Object.keys(GENERATOR_FIELDS).join(', ')}`);
  }
  const v = value as Record<string, unknown>;
  const bad = (field: string): Error => new Error(`${source}: generate.${field} is ${JSON.stringify(v[field])}; it must be ${GENERATOR_FIELDS[field]}`);
  for (const field of Object.keys(v)) {
    if (!(field in GENERATOR_FIELDS)) throw new Error(`${source}: unknown field generate.${field}; known fields: ${Object.keys(GENERATOR_FIELDS).join(', ')}`);
  }
  const config = { ...DEFAULT_GENERATOR };
  if (v.kinds !== undefined) {
    if (!Array.isArray(v.kinds) || v.kinds.length === 0) throw bad('kinds');
    for (const kind of v.kinds) {
      if (!FAULT_KINDS.includes(kind as FaultKind)) {
        throw new Error(`${source}: generate.kinds names unknown fault kind ${JSON.stringify(kind)}; known kinds: ${FAULT_KINDS.join(', ')}`);
      }
    }
    config.kinds = [...new Set(v.kinds as FaultKind[])];
  }
  if (v.maxActions !== undefined) {
    if (!Number.isInteger(v.maxActions) || (v.maxActions as number) < 0 || (v.maxActions as number) > 200) throw bad('maxActions');
    config.maxActions = v.maxActions as number;
  }
  if (v.startMs !== undefined) {
    if (typeof v.startMs !== 'number' || !(v.startMs >= 0) || !(v.startMs < faultWindowMs || faultWindowMs === 0)) throw bad('startMs');
    config.startMs = v.startMs;
  }
  if (v.skew !== undefined) {
    const s = v.skew as { min?: unknown; max?: unknown };
    if (typeof s !== 'object' || s === null || typeof s.min !== 'number' || typeof s.max !== 'number' || !(s.min >= 0.1 && s.min <= s.max && s.max <= 10)) throw bad('skew');
    config.skew = { min: s.min, max: s.max };
  }
  if (v.maxDropRate !== undefined) {
    if (typeof v.maxDropRate !== 'number' || !(v.maxDropRate >= 0 && v.maxDropRate <= 1)) throw bad('maxDropRate');
    config.maxDropRate = v.maxDropRate;
  }
  if (v.knobs !== undefined) {
    if (typeof v.knobs !== 'boolean') throw bad('knobs');
    config.knobs = v.knobs;
  }
  return config;
}

/** What the swarm draws before any action: which kinds, how many, how harsh. */
export interface Swarm {
  readonly kinds: readonly FaultKind[];
  /** Composite episodes this run may use; the swarm draws them like kinds. */
  readonly composites: readonly Composite[];
  /** Upper bound on episodes for this run. */
  readonly episodes: number;
  /** Probability that a node-targeting action aims at "leader"/"follower" rather than a named node. */
  readonly roleTargeting: number;
  /** Link fault severity. */
  readonly harsh: boolean;
  /**
   * Probability that a simple episode waits for the next leader election after its time and
   * strikes at that very step (`when: "elected"`): votes just cast, a first entry just sent,
   * nothing of the new term committed — moments that uniformly drawn times almost never hit.
   */
  readonly atElections: number;
}

/**
 * Composite episodes — the classic Jepsen / etcd-functional-test nemeses, built only from the
 * fault kinds the swarm drew (each names the kinds it needs). Most Raft bugs live at leader
 * changes with logs in different states; single faults scattered over the window rarely produce
 * several leader changes in a row, so these episodes do it on purpose:
 *  - leader-churn: crash the current leader, restart it, repeat (1–5 rounds, losses 'all',
 *    'torn' or 'none'), so many terms start with logs that differ in their unsynced suffixes; a
 *    round may strike the next leader at its very election, before it commits anything;
 *  - leader-minority: cut the leader (alone, or with one follower) off from the majority while the
 *    clients keep writing to it, then heal — a divergent uncommitted suffix that the new leader
 *    must overwrite; repeated 1–3 times;
 *    When the swarm allows skew, the stranded leader's clock may also run slow (Jepsen combines
 *    its clock and partition nemeses the same way): whatever it does on its own clock — leases,
 *    CheckQuorum, election timers — lags behind the majority's;
 *  - crash-storm: crash random servers in quick succession (sometimes a majority), restarting
 *    each after a short while, as a power loss or a rolling restart gone wrong;
 *  - membership-churn: a membership change, then the leader crashes or is cut off before the
 *    change can commit (or is cut off just before it), then another, independent change, some
 *    time later or at the very election of the next leader — the etcd functional tester's
 *    member-plus-kill pattern; configuration changes racing leader changes are where real Raft
 *    membership code breaks. Sometimes a committed change comes first, so the race starts from
 *    a configuration of another size;
 *  - slow-elections: every link long-delays a share of its messages (some also duplicated) while
 *    the leader is churned as above, then the network heals — Jepsen's slow-network nemesis
 *    combined with kills. Votes, pre-votes, appends and their replies of a term arrive after the
 *    term has moved on, reordered against the new term's, which uniformly placed link faults
 *    rarely line up with an election.
 */
export const COMPOSITES = {
  'leader-churn': ['crash', 'restart'],
  'leader-minority': ['isolate', 'partition', 'heal'],
  'crash-storm': ['crash', 'restart'],
  'membership-churn': ['membership', 'crash', 'restart', 'isolate', 'heal'],
  'slow-elections': ['link', 'crash', 'restart', 'heal'],
} as const satisfies Record<string, readonly FaultKind[]>;

export type Composite = keyof typeof COMPOSITES;

/** A composite episode is usable when the config allows the kinds it needs ('isolate' or 'partition' for leader-minority; a crash or an isolation, each with its undoing, for membership churn). */
function compositeUsable(name: Composite, space: PlanSpace): boolean {
  const kinds = space.config.kinds;
  if (space.nodes.length < 3) return false;
  switch (name) {
    case 'leader-churn':
    case 'crash-storm':
      return kinds.includes('crash') && kinds.includes('restart');
    case 'slow-elections':
      return kinds.includes('link') && kinds.includes('crash') && kinds.includes('restart') && kinds.includes('heal');
    case 'leader-minority':
      return (kinds.includes('isolate') || kinds.includes('partition')) && kinds.includes('heal');
    case 'membership-churn':
      return usable('membership', space) && kinds.includes('membership') && leaderStrikes(kinds).length > 0;
  }
}

/** How membership churn may strike the leader: a crash (and later restart) or an isolation (and later heal). */
function leaderStrikes(kinds: readonly FaultKind[]): ('crash' | 'isolate')[] {
  return [
    ...(kinds.includes('crash') && kinds.includes('restart') ? (['crash'] as const) : []),
    ...(kinds.includes('isolate') && kinds.includes('heal') ? (['isolate'] as const) : []),
  ];
}

/** Everything the arbitraries need to know about the cluster. */
export interface PlanSpace {
  readonly nodes: readonly NodeId[];
  readonly initialMembers: readonly NodeId[];
  readonly startMs: number;
  readonly windowMs: number;
  readonly config: GeneratorConfig;
}

export function planSpace(scenario: Scenario, source = `scenario "${scenario.name}"`): PlanSpace {
  const config = parseGeneratorConfig(scenario.generate, source, scenario.faultWindowMs);
  const nodes = nodeIds(scenario.nodes);
  return {
    nodes,
    initialMembers: scenario.initialMembers ? [...scenario.initialMembers] : nodes,
    startMs: Math.min(config.startMs, scenario.faultWindowMs),
    windowMs: scenario.faultWindowMs,
    config,
  };
}

/** Kinds that can start an episode (heal and restart only close one, unless alone). */
const EPISODE_KINDS: readonly FaultKind[] = ['partition', 'isolate', 'cut', 'bridge', 'crash', 'corrupt', 'link', 'skew', 'membership', 'transfer', 'burst', 'load', 'heal', 'restart'];

export function swarmArbitrary(space: PlanSpace): fc.Arbitrary<Swarm> {
  const allowed = EPISODE_KINDS.filter((k) => space.config.kinds.includes(k) && usable(k, space));
  // Composite episodes take 4–10 actions, simple ones 1–3: about one episode per 3 actions.
  const maxEpisodes = Math.max(1, Math.min(14, Math.ceil(space.config.maxActions / 3)));
  // Kinds and composite episodes are drawn together, each as one member of the swarm: a run of
  // only leader churn is as likely as a run of only skew.
  const shapes: (FaultKind | Composite)[] = [...allowed, ...(Object.keys(COMPOSITES) as Composite[]).filter((c) => compositeUsable(c, space))];
  const isComposite = (x: FaultKind | Composite): x is Composite => x in COMPOSITES;
  return fc.record({
    shapes: shapes.length === 0 ? fc.constant([] as (FaultKind | Composite)[]) : fc.subarray(shapes, { minLength: 1 }),
    episodes: fc.noBias(fc.integer({ min: 1, max: maxEpisodes })),
    roleTargeting: fc.constantFrom(0, 0.25, 0.6),
    harsh: fc.boolean(),
    atElections: fc.constantFrom(0, 0.3, 0.7),
  }).map(({ shapes: drawn, ...rest }) => ({ ...rest, kinds: drawn.filter((x): x is FaultKind => !isComposite(x)), composites: drawn.filter(isComposite) }));
}

/** A kind the cluster can express at all (a one-node cluster has no links to cut). */
function usable(kind: FaultKind, space: PlanSpace): boolean {
  const n = space.nodes.length;
  switch (kind) {
    case 'partition':
    case 'isolate':
    case 'cut':
    case 'link':
    case 'transfer':
      return n >= 2;
    case 'bridge':
      return n >= 3;
    case 'membership':
      return space.initialMembers.length >= 2 || n > space.initialMembers.length;
    default:
      return true;
  }
}

/**
 * The plan arbitrary for a scenario: swarm first, then the episodes, flattened and time-ordered;
 * then, when the implementation has knobs (the free ones: not fixed by the scenario or the
 * caller) and the scenario draws them, the run's knob values. They come after the actions, so a
 * seed draws the same actions with knobs as without.
 */
export function planArbitrary(scenario: Scenario, knobs: KnobSpace = {}): fc.Arbitrary<FaultPlan> {
  const space = planSpace(scenario);
  const plans = planArbitraryFor(space);
  if (!space.config.knobs || !Object.values(knobs).some((values) => values.length > 1)) return plans;
  return fc.tuple(plans, knobsArbitrary(knobs)).map(([plan, drawn]) => withKnobs(plan, drawn));
}

/**
 * One value per knob: the default (the first value) half the time, otherwise one of the others,
 * uniformly — so most runs differ from the default in a few knobs, and each non-default value
 * meets every fault shape. Shrinks toward the default. Only values other than the default are
 * kept, so a plan names exactly where its run left the implementation's defaults.
 */
export function knobsArbitrary(knobs: KnobSpace): fc.Arbitrary<Record<string, unknown>> {
  const names = Object.keys(knobs)
    .filter((name) => knobs[name]!.length > 1)
    .sort();
  // A roll below `others` keeps the default; the next `others` rolls pick a value each. An
  // integer shrinks toward 0, that is toward the default.
  const rolls = names.map((name) => fc.noBias(fc.integer({ min: 0, max: 2 * (knobs[name]!.length - 1) - 1 })));
  return fc.tuple(...rolls).map((drawn) => {
    const chosen: Record<string, unknown> = {};
    names.forEach((name, i) => {
      const values = knobs[name]!;
      const others = values.length - 1;
      if (drawn[i]! >= others) chosen[name] = values[1 + drawn[i]! - others];
    });
    return chosen;
  });
}

export function planArbitraryFor(space: PlanSpace): fc.Arbitrary<FaultPlan> {
  if (space.windowMs <= space.startMs || space.config.maxActions === 0) return fc.constant({ version: FAULT_PLAN_VERSION, actions: [] });
  return swarmArbitrary(space).chain((swarm) => {
    if (swarm.kinds.length + swarm.composites.length === 0) return fc.constant({ version: FAULT_PLAN_VERSION, actions: [] } as FaultPlan);
    const episode = fc.oneof(
      ...swarm.kinds.map((kind) => atElection(episodeArbitrary(kind, swarm, space), swarm, space)),
      ...swarm.composites.map((c) => compositeArbitrary(c, swarm, space)),
    );
    // size 'max': the length is drawn from [1, episodes] as asked, not kept near fast-check's
    // default size (about 10) whatever maxLength says; noBias: fast-check's bias would otherwise
    // make most plans one or two episodes long. At least one episode: a run without faults
    // (a fifth of all runs before) tests little. Shrinking goes toward a single episode.
    return fc.noBias(fc.array(episode, { minLength: 1, maxLength: swarm.episodes, size: 'max' })).map((episodes) => toPlan(episodes, space.config.maxActions));
  });
}

function toPlan(episodes: readonly (readonly FaultAction[])[], maxActions: number): FaultPlan {
  const actions = episodes.flat().map((action, i) => ({ action, i }));
  actions.sort((a, b) => a.action.at - b.action.at || a.i - b.i);
  return { version: FAULT_PLAN_VERSION, actions: actions.slice(0, maxActions).map((a) => a.action) };
}

// ---- episodes ------------------------------------------------------------------------------

/**
 * With the swarm's probability, an episode's first action waits for the next election after its
 * time, and the episode's later actions move back by the room an election needs. The roll
 * shrinks toward an episode that does not wait.
 */
function atElection(episode: fc.Arbitrary<FaultAction[]>, swarm: Swarm, space: PlanSpace): fc.Arbitrary<FaultAction[]> {
  if (swarm.atElections === 0) return episode;
  const waitsFrom = 100 - Math.round(swarm.atElections * 100);
  return fc.tuple(episode, fc.integer({ min: 0, max: 99 })).map(([actions, roll]) => {
    if (roll < waitsFrom || actions.length === 0) return actions;
    const [first, ...rest] = actions;
    return [{ ...first!, when: 'elected' as const }, ...rest.map((a) => ({ ...a, at: Math.min(space.windowMs, a.at + ELECTION_ROOM_MS) }))];
  });
}

function episodeArbitrary(kind: FaultKind, swarm: Swarm, space: PlanSpace): fc.Arbitrary<FaultAction[]> {
  const allowed = (k: FaultKind): boolean => space.config.kinds.includes(k);
  const at = timeArbitrary(space);
  const target = nodeRefArbitrary(swarm, space);
  const named = fc.constantFrom(...space.nodes);
  // The closing half of an episode, `gap` ms later (clipped to the fault window).
  const later = (start: number, gap: number): number => Math.min(space.windowMs, start + gap);
  const gap = fc.integer({ min: 20, max: Math.max(20, Math.min(3000, space.windowMs - space.startMs)) });
  const healLater = allowed('heal') ? fc.option(gap, { nil: undefined }) : fc.constant(undefined);
  const withHeal = (action: FaultAction, healGap: number | undefined): FaultAction[] =>
    healGap === undefined ? [action] : [action, { at: later(action.at, healGap), kind: 'heal' }];

  switch (kind) {
    case 'partition':
      return fc
        .tuple(at, fc.array(fc.integer({ min: 0, max: 2 }), { minLength: space.nodes.length, maxLength: space.nodes.length }), healLater)
        .map(([t, groupOf, healGap]) => {
          const groups = [0, 1, 2].map((g) => space.nodes.filter((_, i) => groupOf[i] === g)).filter((g) => g.length > 0);
          if (groups.length === 1) groups.unshift(groups[0]!.splice(0, 1));
          return withHeal({ at: t, kind: 'partition', groups }, healGap);
        });
    case 'isolate':
      return fc.tuple(at, target, healLater).map(([t, node, healGap]) => withHeal({ at: t, kind: 'isolate', node }, healGap));
    case 'cut':
      return fc
        .tuple(at, target, fc.integer({ min: 1, max: space.nodes.length - 1 }), fc.integer({ min: 0, max: space.nodes.length - 1 }), healLater)
        .map(([t, from, offset, base, healGap]) => {
          // `to` is a named node other than `from` when `from` is named; otherwise any named node.
          const fromIndex = space.nodes.indexOf(from);
          const to = space.nodes[fromIndex >= 0 ? (fromIndex + offset) % space.nodes.length : base]!;
          return withHeal({ at: t, kind: 'cut', from, to }, healGap);
        });
    case 'bridge':
      return fc
        .tuple(at, fc.shuffledSubarray([...space.nodes], { minLength: space.nodes.length, maxLength: space.nodes.length }), fc.integer({ min: 1, max: space.nodes.length - 2 }), healLater)
        .map(([t, order, split, healGap]) => {
          const [bridgeNode, ...rest] = order as [NodeId, ...NodeId[]];
          const sides = [[bridgeNode, ...rest.slice(0, split)], [bridgeNode, ...rest.slice(split)]];
          const links: [NodeRef, NodeRef][] = [];
          for (const side of sides) for (let a = 0; a < side.length; a++) for (let b = a + 1; b < side.length; b++) links.push([side[a]!, side[b]!]);
          return withHeal({ at: t, kind: 'bridge', links }, healGap);
        });
    case 'heal':
      return at.map((t) => [{ at: t, kind: 'heal' }]);
    case 'crash': {
      const restartLater = allowed('restart') ? fc.option(gap, { nil: undefined }) : fc.constant(undefined);
      return fc.tuple(at, target, fc.constantFrom<'all' | 'torn' | 'none'>('all', 'torn', 'none'), restartLater).map(([t, node, loss, restartGap]) => {
        const crash: FaultAction = { at: t, kind: 'crash', node, loss };
        if (restartGap === undefined) return [crash];
        // A role-targeted crash is restarted through "crashed": the node it actually hit.
        return [crash, { at: later(t, restartGap), kind: 'restart', node: node === 'leader' || node === 'follower' ? 'crashed' : node }];
      });
    }
    case 'restart':
      return fc.tuple(at, named).map(([t, node]) => [{ at: t, kind: 'restart', node }]);
    case 'corrupt': {
      // Corruption matters when the node reads its disk: mostly at a restart, so often follow with one.
      const reboot = allowed('crash') && allowed('restart') ? fc.option(fc.tuple(gap, gap), { nil: undefined }) : fc.constant(undefined);
      return fc.tuple(at, named, reboot).map(([t, node, r]) => {
        const corrupt: FaultAction = { at: t, kind: 'corrupt', node };
        if (r === undefined) return [corrupt];
        const crashAt = later(t, Math.min(r[0], r[1]));
        return [corrupt, { at: crashAt, kind: 'crash', node, loss: 'none' }, { at: later(crashAt, Math.max(r[0], r[1]) - Math.min(r[0], r[1]) + 1), kind: 'restart', node }];
      });
    }
    case 'link':
      return fc
        .tuple(at, linkEndsArbitrary(swarm, space), linkRatesArbitrary(swarm, space), healLater)
        .map(([t, ends, rates, healGap]) => withHeal({ at: t, kind: 'link', ...ends, ...rates }, healGap));
    case 'skew': {
      const { min, max } = space.config.skew;
      const rate = fc.integer({ min: Math.round(min * 100), max: Math.round(max * 100) }).map((r) => r / 100);
      return fc.tuple(at, target, rate, fc.option(gap, { nil: undefined })).map(([t, node, r, resetGap]) => {
        const skew: FaultAction = { at: t, kind: 'skew', node, rate: r };
        return resetGap === undefined || node === 'leader' || node === 'follower' ? [skew] : [skew, { at: later(t, resetGap), kind: 'skew', node, rate: 1 }];
      });
    }
    case 'membership':
      return membershipArbitrary(at, gap, space, later);
    case 'transfer':
      return fc.tuple(at, fc.oneof(named, fc.constant<NodeRef>('follower'))).map(([t, to]) => [{ at: t, kind: 'transfer', to }]);
    case 'burst':
      return fc.tuple(at, fc.integer({ min: 1, max: swarm.harsh ? 40 : 10 })).map(([t, operations]) => [{ at: t, kind: 'burst', operations }]);
    case 'load':
      return loadArbitrary(at);
  }
}

function compositeArbitrary(name: Composite, swarm: Swarm, space: PlanSpace): fc.Arbitrary<FaultAction[]> {
  const at = timeArbitrary(space);
  const clip = (t: number): number => Math.min(space.windowMs, Math.max(space.startMs, t));
  const loss = fc.constantFrom<'all' | 'torn' | 'none'>('all', 'torn', 'none');
  switch (name) {
    case 'leader-churn':
      return fc.tuple(at, leaderChurnRounds(loss)).map(([t0, rounds]) => churnActions(t0, rounds, clip));
    case 'slow-elections': {
      // A slow network, not a broken one: no drops, so every late message does arrive. The
      // delays straddle the election timeout (150–300 ms), so a vote may come back after its
      // candidate has timed out and campaigned again.
      const slow = fc.record({
        longDelayRate: fc.integer({ min: 10, max: 60 }).map((x) => x / 100),
        longDelay: fc.tuple(fc.integer({ min: 100, max: 600 }), fc.integer({ min: 0, max: 1500 })).map(([a, b]) => ({ minMs: a, maxMs: a + b })),
        duplicateRate: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 30 }).map((x) => x / 100)),
      });
      return fc.tuple(at, slow, leaderChurnRounds(loss), fc.integer({ min: 100, max: 2000 })).map(([t0, { duplicateRate, ...delays }, rounds, settle]) => {
        const churn = churnActions(t0 + 1, rounds, clip);
        const last = churn.reduce((t, a) => Math.max(t, a.at), t0 + 1);
        return [
          { at: clip(t0), kind: 'link', ...delays, ...(duplicateRate > 0 ? { duplicateRate } : {}) },
          ...churn,
          { at: clip(last + settle), kind: 'heal' },
        ];
      });
    }
    case 'leader-minority': {
      const kinds = space.config.kinds;
      // With five or more servers the minority may keep one follower; the rest forms the majority.
      const cut = fc.constantFrom<readonly (readonly (NodeRef | '*')[])[] | 'isolate'>(
        ...(kinds.includes('isolate') ? (['isolate'] as const) : []),
        ...(kinds.includes('partition') ? [[['leader'], ['*']] as const] : []),
        ...(kinds.includes('partition') && space.nodes.length >= 5 ? [[['leader', 'follower'], ['*']] as const] : []),
      );
      // A burst of one-shot clients lands at some moment of the stranding (as a fraction of it),
      // or at the majority's election of a new leader: early, its writes
      // reach the stranded leader and become its uncommitted suffix; later, clients spread over
      // both sides meet a new leader and the old one at once — at the election, while the old
      // one may still believe it leads.
      const moment = fc.oneof({ arbitrary: fc.integer({ min: 0, max: 99 }), weight: 3 }, { arbitrary: fc.constant('elected' as const), weight: 1 });
      const burst = kinds.includes('burst') ? fc.option(fc.tuple(fc.integer({ min: 1, max: 20 }), moment), { nil: undefined }) : fc.constant(undefined);
      const { min: slowest } = space.config.skew;
      // Half of the slowed clocks run at the slowest rate allowed: the extreme is where timing
      // assumptions (leases, CheckQuorum) break first.
      const slowRate = fc.oneof(fc.constant(slowest), fc.integer({ min: Math.round(slowest * 100), max: 95 }).map((r) => r / 100));
      const slowClock = kinds.includes('skew') && slowest < 1 ? fc.option(slowRate, { nil: undefined }) : fc.constant(undefined);
      const round = fc.tuple(cut, burst, fc.integer({ min: 200, max: 3000 }), fc.integer({ min: 50, max: 1500 }), slowClock);
      return fc.tuple(at, fc.noBias(fc.array(round, { minLength: 1, maxLength: 3 }))).map(([t0, rounds]) => {
        const actions: FaultAction[] = [];
        let t = t0;
        for (const [c, operations, apart, together, rate] of rounds) {
          // The clock slows first, while "leader" still names the leader about to be stranded.
          // It stays slow until a later skew action or the end of the fault window.
          if (rate !== undefined) actions.push({ at: clip(t), kind: 'skew', node: 'leader', rate });
          actions.push(c === 'isolate' ? { at: clip(t), kind: 'isolate', node: 'leader' } : { at: clip(t), kind: 'partition', groups: c });
          if (operations !== undefined) {
            const [count, when] = operations;
            actions.push(
              when === 'elected'
                ? { at: clip(t + 1), kind: 'burst', operations: count, when: 'elected' }
                : { at: clip(t + 1 + Math.floor((apart * when) / 100)), kind: 'burst', operations: count },
            );
          }
          actions.push({ at: clip(t + apart), kind: 'heal' });
          t += apart + together;
        }
        return actions;
      });
    }
    case 'crash-storm': {
      // Each hit's time is an offset from the episode's start, not from the previous hit: the
      // shrinker can drop one hit without moving the others.
      const hit = fc.tuple(fc.constantFrom(...space.nodes), loss, fc.integer({ min: 0, max: 1200 }), fc.option(fc.integer({ min: 20, max: 2000 }), { nil: undefined, freq: 8 }));
      return fc.tuple(at, fc.noBias(fc.array(hit, { minLength: 1, maxLength: Math.min(4, space.nodes.length) }))).map(([t0, hits]) => {
        const actions: FaultAction[] = [];
        for (const [node, l, offset, down] of hits) {
          const t = t0 + offset;
          actions.push({ at: clip(t), kind: 'crash', node, loss: l });
          if (down !== undefined) actions.push({ at: clip(t + down), kind: 'restart', node });
        }
        return actions;
      });
    }
    case 'membership-churn': {
      const strike = fc.constantFrom(...leaderStrikes(space.config.kinds));
      // Optionally a prelude: a first change, given time to commit, so that the changes below
      // start from another configuration than the initial one (of an even size, say, where two
      // single-server changes of different leaders can have disjoint majorities).
      const prelude = fc.oneof(
        { arbitrary: fc.constant(undefined), weight: 2 },
        { arbitrary: fc.tuple(membershipChangeArbitrary(space), fc.integer({ min: 300, max: 1500 })), weight: 1 },
      );
      const changes = prelude.chain((p) => {
        const base = p === undefined ? space.initialMembers : p[0][0];
        return fc.tuple(fc.constant(p), membershipChangeFrom(base, space.nodes), membershipChangeFrom(base, space.nodes));
      });
      // The strike lands up to 300 ms after the change (before or after it commits) or, when it
      // isolates, up to 100 ms before it: the change then goes to a leader already cut off and
      // stays uncommitted in its log. The second change, drawn independently of the first, comes
      // 150–2000 ms after the strike, or at the first election after it, before the new leader
      // has committed anything of its term. The old leader returns (restart or heal) before or after it.
      return fc
        .tuple(
          at,
          changes,
          strike,
          loss,
          fc.integer({ min: -100, max: 300 }),
          fc.option(fc.integer({ min: 150, max: 2000 }), { nil: undefined, freq: 3 }),
          fc.integer({ min: 50, max: 3000 }),
        )
        .map(([t0, [p, [first], [second]], how, l, offset, secondAfter, backAfter]) => {
          const actions: FaultAction[] = [];
          if (p !== undefined) actions.push({ at: clip(t0), kind: 'membership', members: p[0][0] });
          const t = p === undefined ? t0 : t0 + p[1];
          // A crashed leader takes no change: only an isolation may come first.
          const struck = t + (how === 'crash' ? Math.max(0, offset) : offset);
          actions.push(
            { at: clip(t), kind: 'membership', members: first },
            how === 'crash' ? { at: clip(struck), kind: 'crash', node: 'leader', loss: l } : { at: clip(struck), kind: 'isolate', node: 'leader' },
            secondAfter === undefined
              ? { at: clip(struck + 1), kind: 'membership', members: second, when: 'elected' }
              : { at: clip(struck + secondAfter), kind: 'membership', members: second },
            how === 'crash' ? { at: clip(struck + backAfter), kind: 'restart', node: 'crashed' } : { at: clip(struck + backAfter), kind: 'heal' },
          );
          return actions;
        });
    }
  }
}

/** One round of leader churn: [loss, down for (ms, or no restart), up for (ms), strike at the next election]. */
type ChurnRound = [loss: 'all' | 'torn' | 'none', down: number | undefined, up: number, atElection: boolean];

// down: how long the old leader stays down; up: how long after its restart the next round
// strikes (short: the new leader barely settled; long: logs diverged meanwhile). A round may
// instead strike the next leader the moment it is elected, when its first entry has just left
// and nothing of its term is committed (Figure 8's leaders crash that way). The restart is an
// option (rarely left out) so that the shrinker can drop it.
function leaderChurnRounds(loss: fc.Arbitrary<'all' | 'torn' | 'none'>): fc.Arbitrary<ChurnRound[]> {
  const round = fc.tuple(
    loss,
    fc.option(fc.integer({ min: 30, max: 1500 }), { nil: undefined, freq: 8 }),
    fc.integer({ min: 50, max: 1500 }),
    fc.oneof({ arbitrary: fc.constant(false), weight: 3 }, { arbitrary: fc.constant(true), weight: 1 }),
  );
  return fc.noBias(fc.array(round, { minLength: 1, maxLength: 5 }));
}

/** The crashes and restarts of leader churn from time t0. */
function churnActions(t0: number, rounds: readonly ChurnRound[], clip: (t: number) => number): FaultAction[] {
  const actions: FaultAction[] = [];
  let t = t0;
  let lastCrash = t0;
  rounds.forEach(([l, down, up, atElection], r) => {
    // A waiting round is armed right after the previous crash, so that the election it waits
    // for is the one that crash caused. The first round strikes the leader there is.
    const waits = atElection && r > 0;
    const crashAt = waits ? lastCrash + 1 : t;
    actions.push({ at: clip(crashAt), kind: 'crash', node: 'leader', loss: l, ...(waits ? { when: 'elected' as const } : {}) });
    // An election takes up to a few hundred ms: the restart leaves room for it.
    const downFor = down === undefined ? undefined : waits ? down + ELECTION_ROOM_MS : down;
    if (downFor !== undefined) actions.push({ at: clip(crashAt + downFor), kind: 'restart', node: 'crashed' });
    lastCrash = crashAt;
    t = crashAt + (downFor ?? 0) + up;
  });
  return actions;
}

/**
 * The clients' pace from some moment to the heal: busy (writes faster than a round trip, so logs
 * grow long, batches fill and snapshots follow) or sparse (long idle stretches of heartbeats
 * only); and attempt timeouts from far below an election timeout (clients hop between servers,
 * retrying, and find a new leader at once) to well above it.
 */
function loadArbitrary(at: fc.Arbitrary<number>): fc.Arbitrary<FaultAction[]> {
  const think = fc.oneof(
    fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 20 })).map(([minMs, spread]) => ({ minMs, maxMs: minMs + spread })),
    fc.tuple(fc.integer({ min: 50, max: 300 }), fc.integer({ min: 0, max: 300 })).map(([minMs, spread]) => ({ minMs, maxMs: minMs + spread })),
  );
  const timeout = fc.oneof(fc.integer({ min: 20, max: 150 }), fc.integer({ min: 151, max: 1000 }));
  const pace = fc.oneof(
    think.map((thinkMs) => ({ thinkMs })),
    timeout.map((requestTimeoutMs) => ({ requestTimeoutMs })),
    fc.tuple(think, timeout).map(([thinkMs, requestTimeoutMs]) => ({ thinkMs, requestTimeoutMs })),
  );
  return fc.tuple(at, pace).map(([t, p]) => [{ at: t, kind: 'load', ...p }]);
}

/** Room left for an election before the next action of an episode that waits for one. */
const ELECTION_ROOM_MS = 400;

function timeArbitrary(space: PlanSpace): fc.Arbitrary<number> {
  return fc.integer({ min: Math.ceil(space.startMs), max: Math.floor(space.windowMs) });
}

/** A named node, or (with the swarm's role-targeting probability) "leader" / "follower". */
function nodeRefArbitrary(swarm: Swarm, space: PlanSpace): fc.Arbitrary<NodeRef> {
  const named = fc.constantFrom<NodeRef>(...space.nodes);
  if (swarm.roleTargeting === 0) return named;
  const weight = Math.round(swarm.roleTargeting * 10);
  return fc.oneof({ arbitrary: named, weight: 10 - weight }, { arbitrary: fc.constantFrom<NodeRef>('leader', 'follower'), weight });
}

function linkEndsArbitrary(swarm: Swarm, space: PlanSpace): fc.Arbitrary<{ from?: NodeRef; to?: NodeRef }> {
  const ref = nodeRefArbitrary(swarm, space);
  return fc.oneof(
    fc.constant({}),
    ref.map((from) => ({ from })),
    ref.map((to) => ({ to })),
    fc.tuple(fc.constantFrom(...space.nodes), fc.integer({ min: 1, max: space.nodes.length - 1 })).map(([from, offset]) => ({
      from,
      to: space.nodes[(space.nodes.indexOf(from) + offset) % space.nodes.length]!,
    })),
  );
}

function linkRatesArbitrary(swarm: Swarm, space: PlanSpace) {
  const pct = (max: number) => fc.integer({ min: 1, max: Math.max(1, Math.round(max * 100)) }).map((x) => x / 100);
  const maxDrop = swarm.harsh ? space.config.maxDropRate : Math.min(space.config.maxDropRate, 0.15);
  return fc
    .record(
      {
        dropRate: pct(maxDrop),
        duplicateRate: pct(swarm.harsh ? 0.5 : 0.1),
        latency: fc.tuple(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 0, max: swarm.harsh ? 400 : 60 })).map(([a, b]) => ({ minMs: a, maxMs: a + b })),
        longDelayRate: pct(swarm.harsh ? 0.3 : 0.05),
        longDelay: fc.tuple(fc.integer({ min: 200, max: 1000 }), fc.integer({ min: 0, max: 3000 })).map(([a, b]) => ({ minMs: a, maxMs: a + b })),
      },
      { requiredKeys: [] },
    )
    .map((rates) => (Object.keys(rates).length === 0 ? { dropRate: 0.1 } : rates));
}

function membershipArbitrary(
  at: fc.Arbitrary<number>,
  gap: fc.Arbitrary<number>,
  space: PlanSpace,
  later: (start: number, gap: number) => number,
): fc.Arbitrary<FaultAction[]> {
  return fc.tuple(at, membershipChangeArbitrary(space), fc.option(gap, { nil: undefined })).map(([t, [first, second], backGap]) => {
    const change: FaultAction = { at: t, kind: 'membership', members: first };
    return backGap === undefined ? [change] : [change, { at: later(t, backGap), kind: 'membership', members: second }];
  });
}

/** A membership change of the initial members and the one that undoes it, as [first members, second members]. */
function membershipChangeArbitrary(space: PlanSpace): fc.Arbitrary<[NodeId[], NodeId[]]> {
  return membershipChangeFrom(space.initialMembers, space.nodes);
}

/** A membership change of `base` (servers from `nodes`) and the one back to `base`. */
function membershipChangeFrom(base: readonly NodeId[], nodes: readonly NodeId[]): fc.Arbitrary<[NodeId[], NodeId[]]> {
  const spare = nodes.filter((n) => !base.includes(n));
  const changes: fc.Arbitrary<[NodeId[], NodeId[]]>[] = [];
  // Remove a member, then add it back.
  if (base.length >= 2) changes.push(fc.constantFrom(...base).map((x) => [base.filter((m) => m !== x), [...base]]));
  // Add a spare server, then remove it again.
  if (spare.length > 0) changes.push(fc.constantFrom(...spare).map((x) => [[...base, x], [...base]]));
  // Remove two members at once, then add them back: a change of two servers goes through joint
  // consensus (C_old,new), which single-server changes never reach — without this, a cluster with
  // no spare servers (the default scenario) never exercised joint consensus at all.
  if (base.length >= 4) {
    changes.push(
      fc.tuple(fc.constantFrom(...base), fc.integer({ min: 1, max: base.length - 1 })).map(([x, offset]) => {
        const y = base[(base.indexOf(x) + offset) % base.length]!;
        return [base.filter((m) => m !== x && m !== y), [...base]];
      }),
    );
  }
  // Replace a member by a spare.
  if (spare.length > 0 && base.length >= 2) {
    changes.push(fc.tuple(fc.constantFrom(...base), fc.constantFrom(...spare)).map(([out, inn]) => [[...base.filter((m) => m !== out), inn], [...base]]));
  }
  return fc.oneof(...changes);
}
