/**
 * The schema, as migrations that run at start on both engines, in order.
 * Kysely's migrator takes a lock (a PostgreSQL advisory lock), so several
 * nodes may start at once. Add a migration as a new file and one line here.
 */
import type { Migration } from 'kysely/migration';
import type { Engine } from '../database.ts';
import { core } from './0001_core.ts';
import { events } from './0002_events.ts';
import { api } from './0003_api.ts';
import { nodes } from './0004_nodes.ts';
import { certificates } from './0005_certificates.ts';
import { nodeHeartbeat } from './0006_node_heartbeat.ts';
import { authThrottle } from './0007_auth_throttle.ts';
import { retention } from './0010_retention.ts';
import { storageBudget } from './0011_storage_budget.ts';
import { siteShaping } from './0012_site_shaping.ts';
import { attemptMtaSts } from './0013_attempt_mta_sts.ts';
import { mtaStsPolicies } from './0013_mta_sts_policies.ts';
import { outcomeDetails } from './0014_outcome_details.ts';
import { domainHealth } from './0014_domain_health.ts';
import { dkimRotation } from './0014_dkim_rotation.ts';
import { templates } from './0016_templates.ts';
import { sandbox } from './0017_sandbox.ts';
import { scheduled } from './0017_scheduled.ts';
import { tracking } from './0017_tracking.ts';
import { keyScopes } from './0018_key_scopes.ts';
import { devices } from './0019_devices.ts';
import { receiveHere } from './0020_receive_here.ts';
import { dmarcReports } from './0021_dmarc_reports.ts';
import { bodyCompression } from './0024_body_compression.ts';
import { certificateEcdsa } from './0026_certificate_ecdsa.ts';

export function migrations(engine: Engine): Record<string, Migration> {
  return {
    '0001_core': core(engine),
    '0002_events': events(engine),
    '0003_api': api(engine),
    '0004_nodes': nodes(),
    '0005_certificates': certificates(engine),
    '0006_node_heartbeat': nodeHeartbeat(),
    '0007_auth_throttle': authThrottle(),
    '0010_retention': retention(),
    '0011_storage_budget': storageBudget(),
    '0012_site_shaping': siteShaping(),
    '0013_attempt_mta_sts': attemptMtaSts(),
    '0013_mta_sts_policies': mtaStsPolicies(),
    '0014_dkim_rotation': dkimRotation(),
    '0014_domain_health': domainHealth(),
    '0014_outcome_details': outcomeDetails(),
    '0016_templates': templates(),
    '0017_sandbox': sandbox(),
    '0017_scheduled': scheduled(),
    '0017_tracking': tracking(),
    '0018_key_scopes': keyScopes(),
    '0019_devices': devices(),
    '0020_receive_here': receiveHere(engine),
    '0021_dmarc_reports': dmarcReports(),
    '0024_body_compression': bodyCompression(engine),
    '0026_certificate_ecdsa': certificateEcdsa(),
  };
}
