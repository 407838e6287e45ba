/**
 * What a failed TLS handshake means for the person setting up a client. The
 * server only sees OpenSSL's words ("tlsv1 alert unknown ca"); the TLS alert
 * the client sent usually says exactly why it gave up. Patterns are a data
 * table, first match wins.
 */

interface TlsErrorRule {
  pattern: RegExp;
  words: string;
}

const RULES: TlsErrorRule[] = [
  {
    pattern: /alert unknown ca|alert number 48|self.signed/i,
    words: 'The client does not trust the authority that signed our certificate (a self-signed or private certificate). Gmail needs one from a public authority such as Let\'s Encrypt.',
  },
  {
    pattern: /certificate expired|alert number 45/i,
    words: 'The client says our certificate has expired.',
  },
  {
    pattern: /certificate unknown|alert number 46|bad certificate|alert number 42|unsupported certificate|alert number 43/i,
    words: 'The client rejected our certificate: it does not trust it, or it is not for the host name the client connected to.',
  },
  {
    pattern: /handshake timeout|ERR_TLS_HANDSHAKE_TIMEOUT/i,
    words: 'The client connected but never started TLS. On the SSL port the client must use SSL/TLS from the first byte (Gmail: "Secured connection using SSL"); "Secured connection using TLS" belongs on the STARTTLS port.',
  },
  {
    pattern: /wrong version number|http request|https proxy request|unknown protocol|packet length too long|record layer failure/i,
    words: 'The client did not speak TLS on a TLS port (it sent plain SMTP or HTTP). Use the STARTTLS port for "Secured connection using TLS", or turn on SSL in the client.',
  },
  {
    pattern: /no shared cipher|no suitable|unsupported protocol|version too low|alert number 70|protocol version|no protocols available|inappropriate fallback/i,
    words: 'The client and Mailroom have no TLS version or cipher in common: the client is too old (Mailroom needs TLS 1.2 or newer).',
  },
  {
    pattern: /socket closed while initiating tls|ECONNRESET|socket hang up|EPIPE/i,
    words: 'The client closed the connection during the TLS handshake, usually because it did not accept our certificate.',
  },
];

export const TLS_ABANDONED_WORDS = 'The client closed the connection right after the TLS handshake, before saying anything: usually it did not accept our certificate (self-signed, from an unknown authority, or not for the host name it used).';

export function explainTlsError(code: string | null, message: string): string {
  const text = `${code ?? ''} ${message}`;
  const rule = RULES.find((candidate) => candidate.pattern.test(text));
  return rule ? rule.words : `The TLS handshake failed: ${message}.`;
}
