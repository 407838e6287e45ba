/**
 * An MX script that behaves like a rate-limiting provider: a message arriving when `perSecond`
 * messages already came in the last second is refused at the final dot with Gmail's
 * `421 4.7.28`, as Gmail does. Refused messages count too (a provider counts what we try), so
 * pushing harder earns more refusals. `recovering` lifts the limit, like a site that has
 * calmed down.
 */
import type { MxScript } from './mx-peer.ts';

export const GMAIL_RATE_LIMITED = '421 4.7.28 [127.0.0.1      15] Our system has detected an unusual rate of unsolicited mail originating from your IP address. To protect our users from spam, mail sent from your IP address has been temporarily rate limited. a1si123 - gsmtp';

export interface ThrottlingScript extends MxScript {
  /** Messages refused so far. */
  readonly refused: number;
  /** Changes the limit from now on (null: no limit). */
  limit(perSecond: number | null): void;
}

export function throttleAbove(perSecond: number | null): ThrottlingScript {
  let limit = perSecond;
  let refused = 0;
  const arrivals: number[] = [];
  return {
    get refused() {
      return refused;
    },
    limit(next) {
      limit = next;
    },
    dataReply() {
      const now = Date.now();
      while (arrivals.length > 0 && arrivals[0] <= now - 1000) arrivals.shift();
      arrivals.push(now);
      if (limit !== null && arrivals.length > limit) {
        refused++;
        return GMAIL_RATE_LIMITED;
      }
      return null;
    },
  };
}
