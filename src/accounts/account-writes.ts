/** The writes of accounts/ for the queue writer (queue/write-set.ts): off the main thread like every other write. */
import { touchSecretKeys, type KeyUse } from './keys.ts';
import { recordLoginFailure, type LoginFailure } from '../store/login-failures.ts';
import { operation, writeSet } from '../queue/write-set.ts';

const OPERATIONS = {
  /** Last-used times of secret keys, buffered for about a second (key-use-log.ts). */
  touchSecretKeys: operation((tx, _engine, { uses }: { uses: readonly KeyUse[] }) => touchSecretKeys(tx, uses)),
  /** The login throttle's counters (auth-throttle.ts). */
  recordLoginFailure: operation((tx, _engine, failure: LoginFailure) => recordLoginFailure(tx, failure)),
};

export const ACCOUNT_WRITES = writeSet({ operations: OPERATIONS });
export type AccountWrites = typeof OPERATIONS;
