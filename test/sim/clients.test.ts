import { describe, expect, it } from 'vitest';
import type { Command } from '../../src/adapter/contract.ts';
import { ClientPool, DEFAULT_WORKLOAD, type ClientRequest, type ClientTransport } from '../../src/sim/clients.ts';
import type { ClientOperation } from '../../src/sim/history.ts';
import { Rng } from '../../src/sim/rng.ts';

/** A transport that answers nothing and records what the clients schedule and send. */
function recordingTransport() {
  const ticks: { client: number; delayMs: number; token: number }[] = [];
  const requests: ClientRequest[] = [];
  const transport: ClientTransport = {
    nodes: ['n1', 'n2', 'n3'],
    now: () => 0,
    sendRequest: (_node, request) => void requests.push(request),
    scheduleTick: (client, delayMs, token) => void ticks.push({ client, delayMs, token }),
    record: (_operation: ClientOperation) => {},
    completed: (_operation: ClientOperation, _command: Command) => {},
  };
  return { transport, ticks, requests };
}

const NEXT_OPERATION = -1;

describe("the clients' pace (the 'load' fault)", () => {
  it('sets the pause between operations and the attempt timeout; restorePace brings back the workload', () => {
    const { transport, ticks, requests } = recordingTransport();
    const pool = new ClientPool({ ...DEFAULT_WORKLOAD, clients: 1 }, transport, (name) => new Rng(7).fork(name));
    const answer = (): void => pool.onReply(0, { opId: requests.at(-1)!.opId, type: 'ok', node: 'n1', output: '', index: 1 });
    pool.start();

    pool.setPace({ requestTimeoutMs: 30 });
    pool.onTick(0, NEXT_OPERATION); // an operation starts: its first attempt times out after 30 ms
    expect(ticks.at(-1)).toEqual({ client: 0, delayMs: 30, token: 1 });

    pool.setPace({ thinkMs: { minMs: 2, maxMs: 2 } }); // the timeout set before stays
    answer();
    expect(ticks.at(-1)).toEqual({ client: 0, delayMs: 2, token: NEXT_OPERATION });
    pool.onTick(0, NEXT_OPERATION);
    expect(ticks.at(-1)).toEqual({ client: 0, delayMs: 30, token: 1 });

    pool.restorePace();
    answer();
    const think = ticks.at(-1)!;
    expect(think.token).toBe(NEXT_OPERATION);
    expect(think.delayMs).toBeGreaterThanOrEqual(DEFAULT_WORKLOAD.thinkMs.minMs);
    expect(think.delayMs).toBeLessThanOrEqual(DEFAULT_WORKLOAD.thinkMs.maxMs);
    pool.onTick(0, NEXT_OPERATION);
    expect(ticks.at(-1)).toEqual({ client: 0, delayMs: DEFAULT_WORKLOAD.requestTimeoutMs, token: 1 });
  });
});
