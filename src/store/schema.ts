/** Row shapes of every table, as Kysely sees them. Times are epoch milliseconds. */
import type { Generated } from 'kysely';

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
  status: string;
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
}

export interface Database {
  message_events: MessageEventsTable;
  accounts: AccountsTable;
  secret_keys: SecretKeysTable;
  domains: DomainsTable;
  messages: MessagesTable;
  deliveries: DeliveriesTable;
  attempts: AttemptsTable;
  suppressions: SuppressionsTable;
  usage: UsageTable;
  settings: SettingsTable;
}
