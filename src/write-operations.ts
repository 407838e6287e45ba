/**
 * Every write the node's queue writer runs: each folder's set (queue/write-set.ts), merged
 * here, above all of them, so the queue never imports the folders whose writes it runs. The
 * SQLite writer thread loads this module by its URL (queue/writer.ts: WritesModule).
 */
import type { Store } from './store/database.ts';
import { mergeWriteSets } from './queue/write-set.ts';
import { startQueueWriter as startWriter, inThreadWriter as inThread, startWriterThread as startThread, type QueueWriter as Writer } from './queue/writer.ts';
import { QUEUE_WRITES } from './queue/write-operations.ts';
import { ACCOUNT_WRITES } from './accounts/account-writes.ts';
import { DOCTOR_WRITES } from './doctor/session-log-writes.ts';
import { RETENTION_WRITES } from './retention/retention-writes.ts';
import { EVENT_WRITES } from './events/event-writes.ts';

export const WRITES = mergeWriteSets(QUEUE_WRITES, ACCOUNT_WRITES, DOCTOR_WRITES, RETENTION_WRITES, EVENT_WRITES);
export type Writes = typeof WRITES.operations;
export type QueueWriter = Writer<Writes>;

const MODULE = new URL(import.meta.url);

/** The node's queue writer: the writer thread on SQLite, this thread on PostgreSQL. */
export const startQueueWriter = (store: Store, databaseUrl: string): Promise<QueueWriter> => startWriter(store, databaseUrl, WRITES, MODULE);
export const inThreadWriter = (store: Store): QueueWriter => inThread(store, WRITES);
export const startWriterThread = (databaseUrl: string): Promise<QueueWriter> => startThread(databaseUrl, WRITES, MODULE);
