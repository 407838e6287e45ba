/**
 * Configuration is parsed once, at start: the documented defaults, flags over
 * variables, and every bad value refused with a message that names the
 * variable (or flag) and the value, for the right reason.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../src/config/load.ts';

function refusal(env: Record<string, string>, flags: Record<string, string> = {}): string {
  try {
    loadConfig(env, flags);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `a ConfigError, not ${(error as Error).constructor.name}: ${(error as Error).message}`);
    return error.message;
  }
  assert.fail(`accepted ${JSON.stringify({ ...env, ...flags })}`);
}

describe('loadConfig', () => {
  it('turns plain-text AUTH off by default once a CA-signed certificate is in use, unless the operator turns it on', () => {
    const cert = { MAILROOM_TLS_CERT: '/etc/ssl/mail.pem', MAILROOM_TLS_KEY: '/etc/ssl/mail.key' };
    assert.equal(loadConfig({}).insecureAuth, true, 'the generated self-signed certificate: Gmail needs the unsecured connection');
    assert.equal(loadConfig(cert).insecureAuth, false);
    assert.equal(loadConfig({ MAILROOM_ACME_EMAIL: 'ops@example.com' }).insecureAuth, false);
    assert.equal(loadConfig({ ...cert, MAILROOM_INSECURE_AUTH: 'true' }).insecureAuth, true);
    assert.equal(loadConfig({ MAILROOM_ACME_EMAIL: 'ops@example.com', MAILROOM_INSECURE_AUTH: 'on' }).insecureAuth, true);
    assert.equal(loadConfig({ MAILROOM_INSECURE_AUTH: 'false' }).insecureAuth, false);
    assert.equal(loadConfig({ ...cert, MAILROOM_INSECURE_AUTH: 'auto' }).insecureAuth, false);
  });

  it('has the defaults the product contract documents', () => {
    const config = loadConfig({});
    assert.equal(config.databaseUrl, 'sqlite:./data/mailroom.db');
    assert.equal(config.dataDir, './data');
    assert.equal(config.smtpHost, '0.0.0.0');
    assert.equal(config.smtpPort, 2525);
    assert.equal(config.smtpsPort, 4650);
    assert.equal(config.mxPort, null);
    assert.equal(config.httpHost, '0.0.0.0');
    assert.equal(config.httpPort, 8025);
    assert.equal(config.tlsCert, null);
    assert.equal(config.tlsKey, null);
    assert.equal(config.insecureAuth, true);
    assert.equal(config.maxMessageSize, 25 * 1024 * 1024);
    assert.equal(config.maxRecipients, 100);
    assert.equal(config.dnsServers, null);
    assert.equal(config.deliveryPort, 25);
    assert.equal(config.relayHost, null);
    assert.deepEqual(config.retrySchedule, ['5m', '10m', '30m', '1h', '2h', '4h', '8h', '16h'].map((d) => parseInt(d) * (d.endsWith('m') ? 60_000 : 3_600_000)));
    assert.equal(config.maxQueueTime, 5 * 24 * 3_600_000);
    assert.deepEqual(config.roles, ['smtp', 'http', 'delivery', 'mx']);
    assert.match(config.hostname, /^[a-z0-9.-]+$/);
    assert.ok(Object.isFrozen(config));
  });

  it('reads every kind of value the way operators write them', () => {
    const config = loadConfig({
      MAILROOM_SMTP_PORT: '587', MAILROOM_SMTPS_PORT: 'off', MAILROOM_MX_PORT: '25', MAILROOM_MAX_MESSAGE_SIZE: '10 mb',
      MAILROOM_SMTP_IDLE_TIMEOUT: '90s', MAILROOM_INSECURE_AUTH: 'FALSE', MAILROOM_DNS_SERVERS: '127.0.0.1:5353, 9.9.9.9,[::1]:53',
      MAILROOM_ROLES: 'SMTP, delivery,smtp', MAILROOM_DATABASE_URL: 'postgresql://mailroom@db:5432/mailroom',
      MAILROOM_RELAY_HOST: 'smarthost.example', MAILROOM_RETRY_SCHEDULE: '1m, 1.5h', MAILROOM_TLS_CERT: '/etc/cert.pem', MAILROOM_TLS_KEY: '/etc/key.pem',
    });
    assert.equal(config.smtpPort, 587);
    assert.equal(config.smtpsPort, null);
    assert.equal(config.mxPort, 25);
    assert.equal(config.maxMessageSize, 10 * 1024 * 1024);
    assert.equal(config.smtpIdleTimeout, 90_000);
    assert.equal(config.insecureAuth, false);
    assert.deepEqual(config.dnsServers, ['127.0.0.1:5353', '9.9.9.9:53', '[::1]:53']);
    assert.deepEqual(config.roles, ['smtp', 'delivery']);
    assert.equal(config.databaseUrl, 'postgresql://mailroom@db:5432/mailroom');
    assert.deepEqual(config.relayHost, { host: 'smarthost.example', port: 25 });
    assert.deepEqual(config.retrySchedule, [60_000, 5_400_000]);
    assert.equal(config.tlsCert, '/etc/cert.pem');
  });

  it('lets a flag win over its variable, and names the flag when the flag is wrong', () => {
    assert.equal(loadConfig({ MAILROOM_SMTP_PORT: '2000' }, { 'smtp-port': '3000' }).smtpPort, 3000);
    assert.equal(refusal({ MAILROOM_SMTP_PORT: '2000' }, { 'smtp-port': 'x' }), '--smtp-port="x" is invalid: must be a port number (0-65535)');
  });

  const bad: Array<[string, string, RegExp]> = [
    ['MAILROOM_SMTP_PORT', '70000', /must be a port number/],
    ['MAILROOM_SMTP_PORT', 'smtp', /must be a port number/],
    ['MAILROOM_SMTP_PORT', '', /must be a port number/],
    ['MAILROOM_SMTPS_PORT', '-465', /must be a port number/],
    ['MAILROOM_HTTP_PORT', '80.5', /must be a port number/],
    ['MAILROOM_DELIVERY_PORT', 'off', /must be a port number/],
    ['MAILROOM_MAX_MESSAGE_SIZE', '25XB', /must be a size/],
    ['MAILROOM_MAX_MESSAGE_SIZE', '100', /at least 1KB/],
    ['MAILROOM_MAX_RECIPIENTS', '0', /whole number of at least 1/],
    ['MAILROOM_MAX_RECIPIENTS', '2.5', /whole number of at least 1/],
    ['MAILROOM_SMTP_IDLE_TIMEOUT', '5 minutes', /must be a duration/],
    ['MAILROOM_SMTP_IDLE_TIMEOUT', '300', /must be a duration/],
    ['MAILROOM_MAX_QUEUE_TIME', '5days', /must be a duration/],
    ['MAILROOM_RETRY_SCHEDULE', '5m,soon', /must be a duration/],
    ['MAILROOM_INSECURE_AUTH', 'maybe', /must be auto, true or false/],
    ['MAILROOM_DATABASE_URL', 'mysql://db/mailroom', /sqlite:PATH or postgres:\/\//],
    ['MAILROOM_DATABASE_URL', './data/mailroom.db', /sqlite:PATH or postgres:\/\//],
    ['MAILROOM_DATABASE_URL', 'sqlite:', /sqlite:PATH/],
    ['MAILROOM_DNS_SERVERS', 'dns.google', /not an IP address/],
    ['MAILROOM_DNS_SERVERS', '999.1.1.1', /not an IP address/],
    ['MAILROOM_DNS_SERVERS', '10.0.0.1,1.2.3', /not an IP address/],
    ['MAILROOM_DNS_SERVERS', 'abc:def', /not an IP address|must be a port number/],
    ['MAILROOM_DNS_SERVERS', '8.8.8.8:99999', /must be a port number/],
    ['MAILROOM_ROLES', 'smtp,web', /unknown role "web"/],
    ['MAILROOM_ROLES', ' , ', /at least one role/],
    ['MAILROOM_HOSTNAME', 'mail_server!', /host name/],
    ['MAILROOM_RELAY_HOST', 'relay.example:smtp', /host or host:port|port number/],
    ['MAILROOM_LOG_LEVEL', 'loud', /must be one of/],
    ['MAILROOM_PUBLIC_URL', 'mail.example.com', /must be a URL/],
    ['MAILROOM_PUBLIC_URL', 'ftp://mail.example.com', /http or https URL/],
    ['MAILROOM_PUBLIC_URL', 'https://mail.example.com/?x=1', /without \? or #/],
    ['MAILROOM_MAX_SCHEDULE_AHEAD', 'a week', /must be a duration/],
    ['MAILROOM_NEW_ACCOUNTS_SANDBOXED', 'yes please', /must be true or false/],
    ['MAILROOM_CAUGHT_MAIL_RETENTION', 'off', /must be a duration/],
    ['MAILROOM_CAUGHT_MAIL_RETENTION', '10s', /must be at least 60s/],
  ];
  for (const [variable, value, reason] of bad) {
    it(`refuses ${variable}=${JSON.stringify(value)}, naming both`, () => {
      const message = refusal({ [variable]: value });
      assert.ok(message.startsWith(`${variable}=${JSON.stringify(value)} is invalid: `), message);
      assert.match(message, reason);
    });
  }

  it('refuses a TLS certificate without its key (and a key without its certificate), naming what is missing', () => {
    const certOnly = refusal({ MAILROOM_TLS_CERT: '/etc/mailroom/cert.pem' });
    assert.match(certOnly, /MAILROOM_TLS_CERT="\/etc\/mailroom\/cert\.pem"/);
    assert.match(certOnly, /MAILROOM_TLS_KEY/);
    const keyOnly = refusal({ MAILROOM_TLS_KEY: '/etc/mailroom/key.pem' });
    assert.match(keyOnly, /MAILROOM_TLS_KEY="\/etc\/mailroom\/key\.pem"/);
    assert.match(keyOnly, /MAILROOM_TLS_CERT/);
  });
});
