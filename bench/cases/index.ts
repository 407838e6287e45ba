/**
 * The case table: every kind the benchmark knows, in the order they run for
 * each variant. The ceiling comes first so the others can be shown as a share
 * of it. To add a kind, write cases/<kind>.ts exporting a CaseKind and list it here.
 */
import { ceiling } from './ceiling.ts';
import { acceptance } from './acceptance.ts';
import { multinode } from '../multinode.ts';
import { throttled } from './throttled.ts';
import { apiBatch } from './api-batch.ts';
import { mixed } from './mixed.ts';
import { shapingCost } from './shaping-cost.ts';
import type { CaseKind } from './types.ts';

export const CASE_KINDS: readonly CaseKind[] = [ceiling, acceptance, mixed, multinode, throttled, apiBatch, shapingCost];
