import type { KvOperation, NodeId } from '../adapter/contract.ts';

/**
 * One client operation as the client saw it, for the linearizability checker. `ok` means the
 * cluster answered; `fail` means it certainly did not take effect (never accepted by any node);
 * `timeout` means it may or may not have taken effect, at any time after its invocation.
 */
export interface ClientOperation {
  readonly id: number;
  readonly client: string;
  readonly seq: number;
  readonly op: KvOperation;
  readonly invokeTime: number;
  completeTime?: number;
  status: 'pending' | 'ok' | 'fail' | 'timeout';
  /** For a get: the value read ("" when absent). */
  output?: string;
  /** The node that answered, and the log index the write was applied at there. */
  answeredBy?: NodeId;
  appliedIndex?: number;
}
