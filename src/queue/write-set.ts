/**
 * What the queue writer (writer.ts) runs: named write operations, each in a
 * transaction it is given. Named, so the writer can run them in this thread
 * or hand them to the SQLite writer thread by name; their arguments and
 * results are plain data for the same reason (Buffers arrive on the writer
 * thread as Uint8Arrays: see asBuffer).
 *
 * Each folder declares the writes it makes as a set next to its write
 * functions (queue/write-operations.ts, events/event-writes.ts, …); the
 * composition module src/write-operations.ts merges them into the node's one
 * set. A caller takes a writer typed with only the set it uses, so no folder
 * imports the writes of a folder above it.
 */
import type { Kysely } from 'kysely';
import type { Engine } from '../store/database.ts';
import type { Database } from '../store/schema.ts';

export type Operation<A, R> = (tx: Kysely<Database>, engine: Engine, args: A) => Promise<R>;
export type OperationTable = Record<string, Operation<any, unknown>>;

export type OperationName<T extends OperationTable> = keyof T & string;
export type OperationArgs<T extends OperationTable, N extends keyof T> = Parameters<T[N]>[2];
export type OperationResult<T extends OperationTable, N extends keyof T> = Awaited<ReturnType<T[N]>>;

/** Checks an operation's types where it is declared. */
export const operation = <A, R>(run: Operation<A, R>): Operation<A, R> => run;

/** How PostgreSQL runs an operation outside the group commit (see writer.ts). */
export type OnPostgres = 'single-statement' | 'own-transaction';

export interface WriteSet<T extends OperationTable> {
  operations: T;
  /** Operations whose requests of one batch run as one call: one statement for all of them (multi-row inserts, UPDATE … FROM unnest). */
  together?: { [N in keyof T]?: (tx: Kysely<Database>, engine: Engine, requests: ReadonlyArray<OperationArgs<T, N>>) => Promise<Array<OperationResult<T, N>>> };
  /** The arguments as they should cross to another thread (writer.ts): by default, as they are. */
  forTransfer?: { [N in keyof T]?: (args: OperationArgs<T, N>) => OperationArgs<T, N> };
  /** PostgreSQL: single statements, or a transaction of its own beside the batch (writer.ts). */
  onPostgres?: { [N in keyof T]?: OnPostgres };
  /** Run after every other operation of a batch (see runRequests). */
  last?: ReadonlyArray<keyof T>;
}

export const writeSet = <T extends OperationTable>(set: WriteSet<T>): WriteSet<T> => set;

type Merged<S extends ReadonlyArray<WriteSet<OperationTable>>> = WriteSet<Extract<UnionToIntersection<S[number]['operations']>, OperationTable>>;
type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;

/** One set of several folders' sets (their names must not clash). */
export function mergeWriteSets<S extends ReadonlyArray<WriteSet<OperationTable>>>(...sets: S): Merged<S> {
  const merged: Required<WriteSet<OperationTable>> = { operations: {}, together: {}, forTransfer: {}, onPostgres: {}, last: [] };
  for (const set of sets) {
    for (const name of Object.keys(set.operations)) {
      if (name in merged.operations) throw new Error(`two write operations are named ${name}`);
    }
    Object.assign(merged.operations, set.operations);
    Object.assign(merged.together, set.together);
    Object.assign(merged.forTransfer, set.forTransfer);
    Object.assign(merged.onPostgres, set.onPostgres);
    merged.last = [...merged.last, ...(set.last ?? [])];
  }
  return merged as unknown as Merged<S>;
}

export interface WriteRequest {
  name: string;
  args: unknown;
}

type RunTogether = (tx: Kysely<Database>, engine: Engine, requests: unknown[]) => Promise<unknown[]>;

/**
 * The batch runner of a set: a batch of requests in the caller's transaction, answered in the
 * order asked; requests of an operation that can run together run as one call.
 *
 * Operations run in one order within a batch, whatever order they were asked in: the same on
 * every node, so two nodes' batches take their row locks in the same order and cannot deadlock
 * on them; the set's `last` ones (acceptance) last, so the account rows they lock (the daily
 * limit) are held for the shortest time: from their statement to the COMMIT.
 */
export function requestRunner(set: WriteSet<OperationTable>): (tx: Kysely<Database>, engine: Engine, requests: readonly WriteRequest[]) => Promise<unknown[]> {
  const last = new Set<string>(set.last as readonly string[] | undefined);
  const names = Object.keys(set.operations);
  const rank = new Map([...names.filter((name) => !last.has(name)), ...names.filter((name) => last.has(name))].map((name, at) => [name, at]));
  const rankOf = (name: string) => {
    const at = rank.get(name);
    if (at === undefined) throw new Error(`no write operation is named ${name}`);
    return at;
  };
  return async (tx, engine, requests) => {
    const results: unknown[] = new Array(requests.length);
    const done = new Set<number>();
    const order = requests.map((_, index) => index).sort((a, b) => rankOf(requests[a].name) - rankOf(requests[b].name) || a - b);
    for (const index of order) {
      const request = requests[index];
      if (done.has(index)) continue;
      const together = set.together?.[request.name] as RunTogether | undefined;
      if (!together) {
        results[index] = await set.operations[request.name](tx, engine, request.args);
        continue;
      }
      const indexes = order.filter((at) => requests[at].name === request.name && !done.has(at));
      const answers = await together(tx, engine, indexes.map((at) => requests[at].args));
      indexes.forEach((at, k) => { results[at] = answers[k]; done.add(at); });
    }
    return results;
  };
}

/** Bytes that crossed from another thread arrive as a Uint8Array: the same bytes as a Buffer again. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
