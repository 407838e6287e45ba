/** Row shapes of every table, as Kysely sees them. Times are epoch milliseconds. */
import type { ColumnType, Generated } from 'kysely';
import type { DeliveryStatus } from '../queue/delivery-status.ts';

export interface AccountsTable {
  id: string;
  email: string;
  password_hash: string;
  daily_limit: number;
  is_admin: number;
  created_at: number;
}

export interface SecretKeysTable {
  id: string;
  account_id: string;
  name: string;
  secret_hash: string;
  hint: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
  // The key's scope (migration 0018_key_scopes); null or 'full' means no limit of that kind.
  /** JSON array of addresses and whole domains (`example.com`) the key may send as. */
  allowed_from: string | null;
  daily_limit: number | null;
  /** full | smtp | api (sending over the API only) */
  channel: string;
  /** JSON array of CIDR ranges the key may be used from. */
  ip_ranges: string | null;
  expires_at: number | null;
  last_used_ip: string | null;
}

/** A device that sends without AUTH (migration 0019_devices); removing it deletes the row. */
export interface DevicesTable {
  id: string;
  account_id: string;
  name: string;
  /** JSON array of CIDR ranges; no two devices' ranges overlap. */
  ip_ranges: string;
  /** JSON array of addresses and whole domains it may send as. */
  allowed_from: string;
  daily_limit: number;
  created_at: number;
}

/** An address whose mail the mx listener takes ("receive here", migration 0020_receive_here); deleting the row turns it off. */
export interface ReceiveAddressesTable {
  id: string;
  account_id: string;
  /** The verified domain the address is on, or under (a subdomain). */
  domain_id: string;
  /** Lower case. */
  address: string;
  created_at: number;
}

/** A message caught for a receive-here address, kept until `expires_at` (retention deletes it). */
export interface CaughtMessagesTable {
  id: string;
  account_id: string;
  recipient: string;
  mail_from: string;
  header_from: string;
  subject: string;
  /** The plain-text body (or the HTML's text), cut to a readable length. */
  text_body: string;
  /** A confirmation code and link found in it (events/confirmation-codes.ts); null when none. */
  code: string | null;
  link: string | null;
  size: number;
  raw: Uint8Array;
  client_ip: string | null;
  received_at: number;
  expires_at: number;
  forwarded_to: string | null;
  forwarded_message_id: string | null;
  forwarded_at: number | null;
}

/** Emails sent with one key or by one device (under its id), per minute: their share of `usage`. */
export interface KeyUsageTable {
  key_id: string;
  minute: number;
  count: number;
}

export interface DomainsTable {
  id: string;
  account_id: string;
  name: string;
  dkim_selector: string;
  dkim_private_key: string;
  dkim_public_key: string;
  return_path_domain: string;
  verified_at: number | null;
  verified_by: string | null;
  last_check: string | null;
  last_checked_at: number | null;
  created_at: number;
  /** JSON HealthAlert (domains/recheck.ts): what the last scheduled re-check found wrong; null when all is well. */
  health_alert: string | null;
}

export interface DkimKeysTable {
  id: string;
  domain_id: string;
  selector: string;
  private_key: string;
  public_key: string;
  /** 'pending': published next, not signing yet; 'retired': signed before the active key. */
  state: 'pending' | 'retired';
  created_at: number;
  retired_at: number | null;
}

export interface MtaStsPoliciesTable {
  domain: string;
  policy_id: string;
  mode: string;
  /** JSON array of MX patterns. */
  mx: string;
  max_age: number;
  fetched_at: number;
  expires_at: number;
}

export interface MessagesTable {
  id: string;
  account_id: string | null;
  mail_from: string;
  header_from: string;
  subject: string;
  size: number;
  raw: Uint8Array;
  /** The DKIM-Signature header made at the first attempt, kept so retries send identical bytes. */
  dkim_signature: string | null;
  source: string;
  tags: string;
  client_ip: string | null;
  idempotency_key: string | null;
  created_at: number;
}

export interface DeliveriesTable {
  id: string;
  message_id: string;
  account_id: string | null;
  recipient: string;
  recipient_domain: string;
  status: DeliveryStatus;
  attempt_count: number;
  next_attempt_at: number;
  lease_owner: string | null;
  last_reply: string | null;
  created_at: number;
  updated_at: number;
}

export interface AttemptsTable {
  id: Generated<number>;
  delivery_id: string;
  message_id: string;
  at: number;
  outcome: string;
  mx: string | null;
  ip: string | null;
  tls: string | null;
  reply: string;
  duration_ms: number;
  /** JSON `{mode, policyId, failure?}`: the recipient domain's MTA-STS policy; null without one. */
  mta_sts: string | null;
  /** The classification rule that decided the outcome (reply-rules.ts or a built-in); null when delivered. */
  rule: string | null;
}

export interface SuppressionsTable {
  account_id: string;
  address: string;
  reason: string;
  source_delivery_id: string | null;
  created_at: number;
}

export interface UsageTable {
  account_id: string;
  minute: number;
  count: number;
}

export interface SettingsTable {
  key: string;
  value: string;
}

export interface MessageEventsTable {
  id: Generated<number>;
  account_id: string | null;
  message_id: string;
  delivery_id: string | null;
  recipient: string | null;
  type: string;
  reply: string | null;
  bounce_class: string | null;
  created_at: number;
  /** JSON `{rule?, nextAttemptAt?, expiresAt?}` (epoch ms) for deferrals, bounces and expiries; null otherwise. */
  details: string | null;
}

export interface NodesTable {
  id: string;
  hostname: string;
  roles: string;
  listeners: string;
  pid: number;
  started_at: number;
  heartbeat_at: number;
  /** The node's MAILROOM_HEARTBEAT_INTERVAL: it is stale after three missed beats. */
  heartbeat_ms: number;
}

export interface Database {
  nodes: NodesTable;
  message_events: MessageEventsTable;
  accounts: AccountsTable;
  secret_keys: SecretKeysTable;
  domains: DomainsTable;
  dkim_keys: DkimKeysTable;
  mta_sts_policies: MtaStsPoliciesTable;
  messages: MessagesTable;
  deliveries: DeliveriesTable;
  attempts: AttemptsTable;
  suppressions: SuppressionsTable;
  usage: UsageTable;
  key_usage: KeyUsageTable;
  devices: DevicesTable;
  receive_addresses: ReceiveAddressesTable;
  caught_messages: CaughtMessagesTable;
  settings: SettingsTable;
}

// Tables of the HTTP API (migration 0003_api).

export interface WebSessionsTable {
  /** SHA-256 of the cookie's token: a stolen database does not log anyone in. */
  token_hash: string;
  account_id: string;
  created_at: number;
  expires_at: number;
}

export interface WebhooksTable {
  id: string;
  account_id: string;
  url: string;
  /** JSON array of event types. */
  events: string;
  secret: string;
  created_at: number;
}

export interface WebhookDeliveriesTable {
  id: string;
  webhook_id: string;
  account_id: string;
  /** message_events.id; null for test events. */
  event_id: number | null;
  event_type: string;
  payload: string;
  status: 'pending' | 'delivered' | 'failed';
  attempt_count: number;
  next_attempt_at: number;
  /** Set while a dispatcher holds the row; the lease's end is next_attempt_at. */
  lease_owner: string | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
  delivered_at: number | null;
}

export interface WebhookAttemptsTable {
  id: Generated<number>;
  delivery_id: string;
  at: number;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
}

// Merged into Database above (interface merging), so this block stays self-contained.
export interface Database {
  web_sessions: WebSessionsTable;
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
}

// Tables of the shared certificate and the Send-As doctor (migration 0005_certificates).

export interface CertificatesTable {
  hostname: string;
  /** The full chain as issued, leaf first; null until the first issuance. */
  cert_pem: string | null;
  key_pem: string | null;
  /** The ECDSA P-256 certificate for the same name (chain, leaf first) and its key, served beside the RSA one; null when none was issued. */
  ecdsa_cert_pem: string | null;
  ecdsa_key_pem: string | null;
  issuer: string | null;
  not_before: number | null;
  not_after: number | null;
  obtained_at: number | null;
  /** Failed ACME attempts in a row; the backoff grows with it and resets on success. */
  failures: number;
  last_attempt_at: number | null;
  last_error: string | null;
  next_attempt_at: number | null;
  /** The node ordering right now, so two nodes never order at once. */
  lease_owner: string | null;
  lease_expires_at: number | null;
  updated_at: number;
}

export interface AcmeAccountsTable {
  directory_url: string;
  email: string;
  account_key_pem: string;
  account_url: string | null;
  created_at: number;
}

export interface AcmeChallengesTable {
  token: string;
  hostname: string;
  key_authorization: string;
  expires_at: number;
}

export interface SmtpSessionsTable {
  id: Generated<number>;
  /** null when the session could not be tied to an account (a TLS failure before login, an unknown username). */
  account_id: string | null;
  username: string | null;
  at: number;
  listener: string;
  client_ip: string;
  tls_version: string | null;
  tls_cipher: string | null;
  sni: string | null;
  auth_method: string | null;
  /** ok | auth-failed | refused | tls-failed | tls-abandoned */
  outcome: string;
  /** JSON with what the outcome needs to be explained (the refusal, the TLS error). */
  detail: string | null;
  messages: number;
}

// Merged into Database above (interface merging), so this block stays self-contained.
export interface Database {
  certificates: CertificatesTable;
  acme_accounts: AcmeAccountsTable;
  acme_challenges: AcmeChallengesTable;
  smtp_sessions: SmtpSessionsTable;
}

// Failed logins, shared by the nodes (migration 0007_auth_throttle).

export interface AuthFailuresTable {
  /** `ip:ADDRESS` or `account:EMAIL`. */
  key: string;
  at: number;
}

export interface AuthLocksTable {
  key: string;
  locked_until: number;
}

export interface Database {
  auth_failures: AuthFailuresTable;
  auth_locks: AuthLocksTable;
}

// Adaptive shaping per site, shared by the nodes (migration 0012_site_shaping).

export interface SiteShapingTable {
  site: string;
  concurrency: number | null;
  rate: number | null;
  grow_step: number;
  suspended_until: number | null;
  pinned_concurrency: number | null;
  pinned_rate: number | null;
  last_change: string | null;
  changed_at: number;
  last_decrease_at: number | null;
  reason: string | null;
  reason_rule: string | null;
  delivered: number;
  deferred: number;
  bounced: number;
  throttled: number;
  held: number;
  /** JSON array of recipient domains lately seen on the site (a sample, for people). */
  domains: string;
  updated_at: number;
}

export interface Database {
  site_shaping: SiteShapingTable;
}

// Retention (migration 0010_retention).

export interface MessagesTable {
  /** When retention deleted the body (only the header section is kept); null while the body is kept. */
  body_expired_at: number | null;
}

/** A background job one node at a time runs in a cluster; the holder renews its lease while it works. */
export interface JobLeasesTable {
  name: string;
  owner: string;
  expires_at: number;
}

export interface Database {
  job_leases: JobLeasesTable;
}

// Storage budget (migration 0011_storage_budget).

export interface AccountsTable {
  /** Body bytes of the account's messages still held: added at acceptance, taken off when retention deletes a body. */
  stored_bytes: ColumnType<number, number | undefined, number>;
}

// Stored templates and the version each message used (migration 0016_templates).

export interface TemplatesTable {
  id: string;
  account_id: string;
  /** Unique in the account; what POST /messages names in `template`. */
  name: string;
  current_version: number;
  created_at: number;
  updated_at: number;
}

/** Never updated: an edit adds a version. */
export interface TemplateVersionsTable {
  template_id: string;
  version: number;
  subject: string;
  text: string | null;
  html: string | null;
  created_at: number;
}

export interface MessageTemplatesTable {
  message_id: string;
  template_id: string;
  /** Kept with the message, so the log still names a template deleted since. */
  template_name: string;
  version: number;
}

export interface Database {
  templates: TemplatesTable;
  template_versions: TemplateVersionsTable;
  message_templates: MessageTemplatesTable;
}

// Sandbox mode on accounts and keys (migration 0017_sandbox); merged into the tables above.

export interface AccountsTable {
  /** 1: the account's mail is recorded and signed but delivered nowhere, until an administrator lifts it. */
  sandbox: Generated<number>;
}

export interface SecretKeysTable {
  /** 1: mail sent with this key is sandboxed, whatever the account's mode. */
  sandbox: Generated<number>;
}

// Tracking settings of a sending domain (migration 0017_tracking); no row: nothing is tracked.

export interface DomainTrackingTable {
  domain_id: string;
  /** 1: messages from this domain may carry an open pixel (and do unless they say otherwise). */
  opens: number;
  /** 1: links in this domain's HTML mail may be rewritten through Mailroom (and are unless a message says otherwise). */
  clicks: number;
  updated_at: number;
}

export interface Database {
  domain_tracking: DomainTrackingTable;
}

// DMARC aggregate reports (migration 0021_dmarc_reports).

export interface DmarcReportsTable {
  id: string;
  domain_id: string;
  org_name: string;
  org_email: string | null;
  /** The reporter's id for the report: with org_name, what makes a report the same report. */
  report_id: string;
  begin_at: number;
  end_at: number;
  policy_domain: string;
  policy_p: string;
  policy_sp: string | null;
  policy_pct: number | null;
  policy_adkim: string | null;
  policy_aspf: string | null;
  /** The sum of the rows' counts. */
  messages: number;
  received_at: number;
}

export interface DmarcReportRowsTable {
  report_id: string;
  position: number;
  source_ip: string;
  count: number;
  disposition: string;
  /** 'pass' | 'fail': DKIM and SPF as DMARC evaluated them (aligned with the From domain). */
  dkim_aligned: string;
  spf_aligned: string;
  header_from: string;
  envelope_from: string | null;
  /** JSON `{dkim: [{domain, selector, result}], spf: [{domain, scope, result}]}`. */
  auth_results: string;
}

export interface DmarcSummariesTable {
  domain_id: string;
  /** When the last weekly summary event went out (epoch ms). */
  sent_at: number;
}

export interface Database {
  dmarc_reports: DmarcReportsTable;
  dmarc_report_rows: DmarcReportRowsTable;
  dmarc_summaries: DmarcSummariesTable;
}
