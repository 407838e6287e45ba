// Turns the SMTP settings of GET /api/v1/account into one row per way of
// connecting, the shape the profile page and the Gmail walkthrough draw from.

/**
 * @typedef {'unsecured' | 'starttls' | 'ssl'} Connection
 * @typedef {{ port: number, connection: Connection, label: string, gmail: string }} SmtpPort
 * @typedef {{ selfSigned: boolean, subject: string, issuer: string, validTo: string, names?: string[], gmailAccepts?: boolean, problems?: string[] }} Certificate
 * @typedef {{ host: string, username: string, insecureAuth: boolean, ports: SmtpPort[], certificate: Certificate | null }} SmtpSettings
 */

/** The API's connection words → ours, with Gmail's name for each. */
const CONNECTIONS = {
  unsecured: { connection: 'unsecured', label: 'Unsecured', gmail: 'Unsecured connection' },
  STARTTLS: { connection: 'starttls', label: 'STARTTLS', gmail: 'Secured connection using TLS' },
  'SSL/TLS': { connection: 'ssl', label: 'SSL / TLS', gmail: 'Secured connection using SSL' },
};
// Encrypted choices first: the unsecured row comes last, with its warning (profile page).
const ORDER = { ssl: 0, starttls: 1, unsecured: 2 };

/**
 * A submission port offers both unsecured and STARTTLS: each becomes its own
 * row, since Gmail and mail clients ask for one connection type at a time.
 * @param {any} account  GET /api/v1/account
 * @returns {SmtpSettings}
 */
export function smtpSettings(account) {
  const smtp = account?.smtp;
  if (!smtp) return { host: '', hostWarning: null, username: '', insecureAuth: false, ports: [], certificate: null };
  /** @type {SmtpPort[]} */
  const ports = smtp.ports.flatMap((/** @type {{ port: number, connections: string[] }} */ p) =>
    p.connections.flatMap((c) => {
      const known = /** @type {Record<string, { connection: Connection, label: string, gmail: string }>} */ (CONNECTIONS)[c];
      return known ? [{ port: p.port, ...known }] : [];
    }));
  ports.sort((a, b) => ORDER[a.connection] - ORDER[b.connection] || a.port - b.port);
  return { host: smtp.host, hostWarning: smtp.hostWarning ?? null, username: smtp.username, insecureAuth: smtp.insecureAuth, ports, certificate: smtp.certificate };
}

/** @param {any} account  GET /api/v1/account */
export function usageOf(account) {
  const limit = Number(account?.dailyLimit ?? 0);
  const sent = Number(account?.sentLast24h ?? 0);
  return { limit, sent, resetsAt: account?.resetsAt ?? null, fraction: limit > 0 ? Math.min(1, sent / limit) : 0 };
}

/**
 * What to tell Gmail: SSL with a trusted certificate; with a self-signed (or
 * unknown) one Gmail refuses TLS, so the unsecured connection the guide uses.
 * @param {SmtpSettings} smtp
 */
export function gmailChoice(smtp) {
  const trusted = smtp.certificate?.gmailAccepts ?? smtp.certificate?.selfSigned === false;
  const prefer = trusted ? ['ssl', 'starttls', 'unsecured'] : ['unsecured', 'starttls', 'ssl'];
  for (const connection of prefer) {
    const row = smtp.ports.find((p) => p.connection === connection);
    if (row) return row;
  }
  return null;
}
