import type { Command } from '../src/adapter/contract.ts';
import { isClientCommand } from './util.ts';

/**
 * An independent model of the framework's key-value state machine (src/sim/kv.ts), so the
 * checkers judge the engine's state machine rather than trust it: put replaces, append
 * concatenates, get reads ("" when absent); a command whose (client, seq) is not newer than the
 * client's last applied one is a retry and has no effect; anything that is not a client command
 * is a no-op.
 */
export class KvModel {
  readonly data = new Map<string, string>();
  private readonly lastSeq = new Map<string, number>();

  apply(command: unknown): void {
    if (!isClientCommand(command)) return;
    const last = this.lastSeq.get(command.client);
    if (last !== undefined && command.seq <= last) return;
    this.lastSeq.set(command.client, command.seq);
    const op = (command as Command).op;
    if (op.type === 'put') this.data.set(op.key, op.value);
    else if (op.type === 'append') this.data.set(op.key, (this.data.get(op.key) ?? '') + op.value);
  }
}
