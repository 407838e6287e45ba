/**
 * DMARC aggregate reports received for a sending domain (src/domains/dmarc-reports.ts), one row
 * per report with one row per reported source under it; a report mailed twice is stored once
 * (unique per domain, reporting organisation and report id). `dmarc_summaries` says when each
 * domain's weekly summary event last went out, so that one node sends it.
 */
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export function dmarcReports(): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema.createTable('dmarc_reports')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('domain_id', 'text', (c) => c.notNull().references('domains.id').onDelete('cascade'))
        .addColumn('org_name', 'text', (c) => c.notNull())
        .addColumn('org_email', 'text')
        .addColumn('report_id', 'text', (c) => c.notNull())
        .addColumn('begin_at', 'bigint', (c) => c.notNull())
        .addColumn('end_at', 'bigint', (c) => c.notNull())
        .addColumn('policy_domain', 'text', (c) => c.notNull())
        .addColumn('policy_p', 'text', (c) => c.notNull())
        .addColumn('policy_sp', 'text')
        .addColumn('policy_pct', 'integer')
        .addColumn('policy_adkim', 'text')
        .addColumn('policy_aspf', 'text')
        .addColumn('messages', 'bigint', (c) => c.notNull())
        .addColumn('received_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('dmarc_reports_once', ['domain_id', 'org_name', 'report_id'])
        .execute();
      await db.schema.createIndex('dmarc_reports_domain_end').on('dmarc_reports').columns(['domain_id', 'end_at']).execute();
      await db.schema.createTable('dmarc_report_rows')
        .addColumn('report_id', 'text', (c) => c.notNull().references('dmarc_reports.id').onDelete('cascade'))
        .addColumn('position', 'integer', (c) => c.notNull())
        .addColumn('source_ip', 'text', (c) => c.notNull())
        .addColumn('count', 'bigint', (c) => c.notNull())
        .addColumn('disposition', 'text', (c) => c.notNull())
        .addColumn('dkim_aligned', 'text', (c) => c.notNull())
        .addColumn('spf_aligned', 'text', (c) => c.notNull())
        .addColumn('header_from', 'text', (c) => c.notNull())
        .addColumn('envelope_from', 'text')
        .addColumn('auth_results', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('dmarc_report_rows_pk', ['report_id', 'position'])
        .execute();
      await db.schema.createTable('dmarc_summaries')
        .addColumn('domain_id', 'text', (c) => c.primaryKey().references('domains.id').onDelete('cascade'))
        .addColumn('sent_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  };
}
