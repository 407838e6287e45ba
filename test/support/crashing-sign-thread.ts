/**
 * The real signing thread, which dies on purpose (as a crash or an out-of-memory would end
 * it) when asked to sign a message containing CRASH-THE-SIGNER: for the pool's recovery test.
 */
import { parentPort } from 'node:worker_threads';
import type { SignRequest } from '../../src/signing/signing-pool.ts';

parentPort!.on('message', (requests: SignRequest[]) => {
  if (requests.some((request) => Buffer.from(request.raw).includes('CRASH-THE-SIGNER'))) process.exit(70);
});
await import('../../src/signing/sign-thread.ts');
