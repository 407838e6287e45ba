/**
 * DMARC aggregate reports mailed to a domain's report address (the rua of its DMARC record) at
 * the mx listener: Google's gzip and Microsoft's zip reports are stored and show in the API per
 * source IP, with the sources that sent as the domain without passing flagged; a report mailed
 * twice is stored once; broken, oversized or foreign reports are refused with a reason and
 * break nothing; the weekly summary event goes out once, with what the reports said.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachStore } from '../support/stores.ts';
import { startDeliveryWorld, type DeliveryWorld } from '../support/delivery-world.ts';
import { apiClient, type ApiClient } from '../api/client.ts';
import { googleReportMail, gzipped, microsoftReportMail, recentPeriod, reportMail, reportXml, zipped } from '../support/dmarc-reports.ts';
import { smtpTransaction } from '../support/delivery.ts';
import { sendDueDmarcSummaries } from '../../src/domains/dmarc-summary.ts';
import { eventPayload } from '../../src/events/webhooks-fanout.ts';

const WEEK = 7 * 24 * 3600_000;

describeEachStore('DMARC aggregate reports at the mx listener', (engine) => {
  let world: DeliveryWorld;
  let mxPort: number;
  let api: ApiClient;
  let domain: string;
  let rua: string;
  before(async () => {
    world = await startDeliveryWorld(engine, { env: { MAILROOM_MX_PORT: '0' } });
    mxPort = world.mailroom.port('mx');
    api = apiClient(world.mailroom.port('http'), world.sender.secret);
    domain = world.sender.domain;
    const detail = await api.get(`/api/v1/domains/${domain}`);
    const dmarc = detail.body.records.find((r: { purpose: string }) => r.purpose === 'dmarc');
    rua = /rua=mailto:([^;\s]+)/.exec(dmarc.value)![1];
  });
  after(async () => { await world?.close(); });

  const send = (raw: string | Buffer, to = rua, from = 'noreply-dmarc-support@google.com') => smtpTransaction(mxPort, { from, to: [to] }, raw);

  test('the DMARC record asks for reports at an address on the return-path domain', () => {
    assert.equal(rua, `dmarc@bounces.${domain}`);
  });

  test("Google's gzip and Microsoft's zip reports are stored and show per source, with the unauthenticated sources flagged", async () => {
    const sentAt = Date.now();
    const google = await send(googleReportMail(domain, rua, sentAt));
    assert.equal(google.ok, true, JSON.stringify(google));
    assert.match(google.response, /^250 2\.0\.0 report received as \S+/);
    const microsoft = await send(microsoftReportMail(domain, rua), rua, 'dmarcreport@microsoft.com');
    assert.equal(microsoft.ok, true, JSON.stringify(microsoft));

    const reports = await api.get(`/api/v1/domains/${domain}/dmarc/reports`);
    assert.equal(reports.status, 200, JSON.stringify(reports.body));
    assert.deepEqual(reports.body.items.map((r: any) => [r.orgName, r.reportId, r.messages]).sort(), [
      ['Outlook.com', '7c3d2b0e9a5f4e1d8b6a0c4f2e7d9a13', 26],
      ['google.com', '4820391847729123456', 49],
    ]);
    const google_ = reports.body.items.find((r: any) => r.orgName === 'google.com');
    assert.deepEqual(google_.policy, { domain, p: 'none', sp: 'none', pct: 100, adkim: 'r', aspf: 'r' });
    assert.equal(google_.begin, new Date(recentPeriod(sentAt).begin * 1000).toISOString());

    const overview = await api.get(`/api/v1/domains/${domain}/dmarc?days=366`);
    assert.equal(overview.status, 200, JSON.stringify(overview.body));
    assert.equal(overview.body.reportAddress, rua);
    assert.deepEqual([overview.body.reports, overview.body.messages, overview.body.passed, overview.body.failed], [2, 75, 61, 14]);
    const bySource = Object.fromEntries(overview.body.sources.map((s: any) => [s.sourceIp, s]));
    assert.deepEqual(Object.keys(bySource), ['192.0.2.25', '203.0.113.66', '198.51.100.7', '2001:db8::25'], 'flagged first, then most mail');
    assert.deepEqual(pick(bySource['198.51.100.7']), { messages: 59, passed: 59, failed: 0, spfAligned: 59, dkimAligned: 59, flagged: false, reporters: ['Outlook.com', 'google.com'] });
    assert.deepEqual(pick(bySource['203.0.113.66']), { messages: 5, passed: 0, failed: 5, spfAligned: 0, dkimAligned: 0, flagged: true, reporters: ['google.com'] });
    assert.deepEqual(pick(bySource['2001:db8::25']), { messages: 2, passed: 2, failed: 0, spfAligned: 0, dkimAligned: 2, flagged: false, reporters: ['google.com'] });
    assert.deepEqual(pick(bySource['192.0.2.25']), { messages: 9, passed: 0, failed: 9, spfAligned: 0, dkimAligned: 0, flagged: true, reporters: ['Outlook.com'] });
    assert.deepEqual(bySource['192.0.2.25'].headerFrom, [`news.${domain}`]);
  });

  test('a report mailed twice is stored once', async () => {
    const again = await send(googleReportMail(domain, rua));
    assert.equal(again.ok, true, JSON.stringify(again));
    const reports = await api.get(`/api/v1/domains/${domain}/dmarc/reports`);
    assert.equal(reports.body.items.filter((r: any) => r.orgName === 'google.com').length, 1);
    assert.match(again.response, new RegExp(reports.body.items.find((r: any) => r.orgName === 'google.com').id));
    const overview = await api.get(`/api/v1/domains/${domain}/dmarc?days=366`);
    assert.equal(overview.body.messages, 75);
  });

  test('a zip or gzip bomb, broken XML or archives and a report about another domain are refused with the reason', async () => {
    const zeros = new Uint8Array(40 * 1024 * 1024);
    const attachment = (filename: string, contentType: string, content: Buffer) => reportMail({ from: 'reports@reporter.example', to: rua, subject: 'Report', filename, contentType, content });
    const cases: Array<[string, string, RegExp]> = [
      ['zip bomb', attachment('bomb.zip', 'application/zip', zipped('bomb.xml', zeros)), /bomb\.zip decompresses to more than 32 MiB/],
      ['gzip bomb', attachment('bomb.xml.gz', 'application/gzip', gzipped(Buffer.from(zeros).toString('latin1'))), /decompresses to more than 32 MiB/],
      ['malformed XML', attachment('r.xml.gz', 'application/gzip', gzipped('<feedback><report_metadata><org_name>x</org_name>')), /not well-formed XML|has no/],
      ['entity expansion', attachment('r.xml', 'text/xml', Buffer.from('<?xml version="1.0"?><!DOCTYPE f [<!ENTITY a "aaaa">]><feedback>&a;</feedback>')), /declares a DTD/],
      ['not a zip', attachment('r.zip', 'application/zip', Buffer.from('PK\u0003\u0004 this is not really a zip archive at all')), /r\.zip/],
      ['not gzip', attachment('r.xml.gz', 'application/gzip', Buffer.from('plain text')), /not valid gzip/],
      ['no report attached', 'From: a@reporter.example\r\nTo: ' + rua + '\r\nSubject: hi\r\n\r\nJust text.\r\n', /no \.xml, \.xml\.gz or \.zip attachment/],
      ['another domain', attachment('r.xml.gz', 'application/gzip', gzipped(reportXml('google', 'someone-else.example').replace('4820391847729123456', 'other-1'))), /about someone-else\.example, not/],
    ];
    for (const [name, raw, reason] of cases) {
      const result = await send(raw);
      assert.equal(result.ok, false, `${name}: ${JSON.stringify(result)}`);
      assert.equal(result.ok === false && result.responseCode, 550, name);
      assert.match(result.response, /5\.6\.0 DMARC report not accepted/, name);
      assert.match(result.response, reason, name);
    }
    const reports = await api.get(`/api/v1/domains/${domain}/dmarc/reports`);
    assert.equal(reports.body.items.length, 2, 'nothing refused was stored, nothing stored was lost');
    // The listener is still there and still takes reports.
    assert.equal((await send(microsoftReportMail(domain, rua))).ok, true);
  });

  test('mail for a report address of a domain that is not ours is refused at RCPT', async () => {
    const result = await send(googleReportMail('stranger.example', 'dmarc@bounces.stranger.example'), 'dmarc@bounces.stranger.example');
    assert.equal(result.ok, false);
    assert.match(result.response, /^550 5\.1\.1 No such recipient here/);
    const other = await send(googleReportMail(domain, `postmaster@bounces.${domain}`), `postmaster@bounces.${domain}`);
    assert.equal(other.ok, false);
  });

  test('the API names the field it cannot take, and another account sees no reports of the domain', async () => {
    const bad = await api.get(`/api/v1/domains/${domain}/dmarc?days=0`);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.field, 'days');
    const unknown = await api.get('/api/v1/domains/not-mine.example/dmarc');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.field, 'name');
    const stranger = await world.mailroom.createSender();
    const theirs = await apiClient(world.mailroom.port('http'), stranger.secret).get(`/api/v1/domains/${domain}/dmarc`);
    assert.equal(theirs.status, 404);
  });

  test('the weekly summary event goes out once per domain with reports, a week after the first, and says what failed', async () => {
    const store = world.mailroom.running.store;
    const options = { store, jitterMs: 0 };
    assert.deepEqual(await sendDueDmarcSummaries({ ...options, now: () => Date.now() + 3600_000 }), [], 'not before a week has passed');
    const at = Date.now() + WEEK + 60_000;
    const sent = await sendDueDmarcSummaries({ ...options, now: () => at });
    assert.deepEqual(sent.map((s) => s.domain), [domain]);
    assert.deepEqual(await sendDueDmarcSummaries({ ...options, now: () => at + 60_000 }), [], 'sent: not again this week');
    const events = await store.db.selectFrom('message_events').selectAll().where('type', '=', 'dmarc_weekly_summary').execute();
    assert.equal(events.length, 1);
    assert.equal(events[0].account_id, world.sender.accountId);
    const payload = eventPayload({ ...events[0], id: Number(events[0].id) } as never);
    assert.equal(payload.type, 'dmarc_weekly_summary');
    assert.equal(payload.domain?.name, domain);
    assert.deepEqual({ ...payload.domain?.dmarc, from: undefined, to: undefined }, {
      from: undefined, to: undefined, reports: 2, messages: 75, passed: 61, failed: 14, flaggedCount: 2,
      flaggedSources: [{ sourceIp: '192.0.2.25', messages: 9, failed: 9 }, { sourceIp: '203.0.113.66', messages: 5, failed: 5 }],
    });
    assert.match(payload.reply ?? '', /2 sources sent as .* without passing: 192\.0\.2\.25 \(9\), 203\.0\.113\.66 \(5\)/);
    // A week with no new reports sends nothing.
    assert.deepEqual((await sendDueDmarcSummaries({ ...options, now: () => at + WEEK + 60_000 })).map((s) => s.summary), [null]);
  });
});

function pick(source: any) {
  const { messages, passed, failed, spfAligned, dkimAligned, flagged, reporters } = source;
  return { messages, passed, failed, spfAligned, dkimAligned, flagged, reporters };
}
