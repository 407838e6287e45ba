/**
 * `mailroom messages show|list`: what happened to a message, read through
 * events/message-log.ts, the read model meant for the HTTP API too, so an
 * operator at the shell and a developer on the API see the same statuses,
 * attempts and replies.
 */
import type { Command } from 'commander';
import { getAccountByEmail } from '../accounts/accounts.ts';
import { getMessage, listMessages, type AttemptView, type MessagePage, type MessageView } from '../events/message-log.ts';
import { UserError } from '../errors.ts';
import { runWithStore, withConfigFlags } from './context.ts';

export function registerMessageCommands(program: Command): void {
  const messages = program.command('messages').description('read the message log');

  withConfigFlags(messages.command('show <id>').description('per-recipient status and every delivery attempt of a message'), { example: 'mailroom messages show 0mwucufn81faro1a20aj' })
    .option('--json', 'print JSON')
    .action((id: string, options) => runWithStore(options, (store, config) => getMessage(store, id, null, { maxQueueTime: config.maxQueueTime, historyRetentionMs: config.historyRetention }), formatMessage));

  withConfigFlags(messages.command('list').description('messages, newest first'), { example: 'mailroom messages list --status deferred --account you@example.com' })
    .option('--recipient <address>', 'only messages to this address')
    .option('--status <status>', 'only messages with a recipient in this status (queued, deferred, delivered, bounced, complained, suppressed, expired)')
    .option('--tag <tag>', 'only messages with this tag')
    .option('--from <address>', 'only messages from this sender')
    .option('--account <email>', 'only this account')
    .option('--limit <n>', 'messages per page (1-100)', '20')
    .option('--cursor <cursor>', 'the next page: the `next` of the previous one')
    .option('--json', 'print JSON')
    .action((options) => runWithStore(options, async (store) => {
      const account = options.account ? await getAccountByEmail(store, options.account) : null;
      return listMessages(store, {
        accountId: account?.id ?? null, recipient: options.recipient, status: options.status, tag: options.tag, from: options.from,
        limit: pageSize(options.limit), cursor: options.cursor,
      });
    }, formatPage));
}

function pageSize(raw: string): number {
  if (!/^\d+$/.test(raw)) throw new UserError('invalid', 'invalid_limit', '--limit must be a whole number from 1 to 100', 'limit');
  return Number(raw);
}

function formatMessage(m: MessageView): string {
  const lines = [`Message ${m.id}`, `  from     ${m.from}`, `  subject  ${m.subject}`, `  created  ${m.createdAt}`];
  if (m.notice) lines.push(`  note     ${m.notice}`);
  for (const r of m.recipients) {
    lines.push('', `${r.address}: ${r.status} (${r.attempts.length} attempt${r.attempts.length === 1 ? '' : 's'})`);
    if (r.explanation) {
      lines.push(`  ${r.explanation.summary}`);
      if (r.explanation.action) lines.push(`  What to do: ${r.explanation.action}`);
    }
    if (r.nextAttemptAt) lines.push(`  next attempt ${r.nextAttemptAt}${r.expiresAt ? `, gives up at ${r.expiresAt}` : ''}`);
    if (r.attempts.length === 0 && r.lastReply) lines.push(`  last reply: ${r.lastReply.split(/\r?\n/).join(' ')}`);
    for (const a of r.attempts) lines.push(`  ${formatAttempt(a)}`);
  }
  return lines.join('\n');
}

function formatAttempt(a: AttemptView): string {
  const where = a.mx ? `${a.mx}${a.ip ? ` [${a.ip}]` : ''}` : 'no host reached';
  const tls = a.tls?.used ? `${a.tls.version ?? 'TLS'}${a.tls.authorized === false ? ' (unverified)' : ''}` : 'no TLS';
  const sts = a.mtaSts ? `\n      MTA-STS ${a.mtaSts.mode} (policy ${a.mtaSts.policyId})${a.mtaSts.failure ? `: ${a.mtaSts.failure}` : ''}` : '';
  return `${a.at}  ${where}  ${tls}  ${a.durationMs} ms\n      ${a.reply.split(/\r?\n/).join(' ')}${sts}`;
}

function formatPage(page: MessagePage): string {
  if (page.items.length === 0) return 'No messages.';
  const lines = page.items.map((m) => {
    const recipients = m.recipients.map((r) => `${r.address} ${r.status}`).join(', ');
    return `${m.id}\t${m.createdAt}\t${m.from}\t${JSON.stringify(m.subject)}\t${recipients}`;
  });
  if (page.next) lines.push(`More: --cursor ${page.next}`);
  return lines.join('\n');
}
