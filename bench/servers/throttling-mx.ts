/**
 * A loopback MX that answers like a rate-limiting provider: once `limit` messages arrived in the
 * last second, the next is refused at the final dot with Gmail's `421 4.7.28` and the
 * connection is closed, as Gmail does. Refused messages count towards the limit (a provider
 * counts what it is sent). `limit(null)` is the site recovering. Minimal SMTP, no TLS.
 */
import { startWireMx } from './wire-mx.ts';

export const RATE_LIMITED = '421 4.7.28 [127.0.0.1      15] Our system has detected an unusual rate of unsolicited mail originating from your IP address. To protect our users from spam, mail sent from your IP address has been temporarily rate limited. a1si123 - gsmtp';

export interface ThrottlingMx {
  port: number;
  accepted: number;
  refused: number;
  limit(perSecond: number | null): void;
  close(): Promise<void>;
}

export async function startThrottlingMx(initialLimit: number | null): Promise<ThrottlingMx> {
  let limit = initialLimit;
  const arrivals: number[] = [];
  const state = { accepted: 0, refused: 0 };
  const mx = await startWireMx('mx.bench', () => {
    const now = Date.now();
    while (arrivals.length > 0 && arrivals[0] <= now - 1000) arrivals.shift();
    arrivals.push(now);
    if (limit !== null && arrivals.length > limit) {
      state.refused++;
      return { closeWith: RATE_LIMITED };
    }
    state.accepted++;
    return { accept: true };
  });
  return {
    port: mx.port,
    get accepted() { return state.accepted; },
    get refused() { return state.refused; },
    limit(next) { limit = next; },
    close: () => mx.close(),
  };
}
