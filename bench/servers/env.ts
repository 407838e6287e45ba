/** The configuration of a server child, as Mailroom reads it: environment variables. */
export function serverEnv(dataDir: string, databaseUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    MAILROOM_DATABASE_URL: databaseUrl,
    MAILROOM_DATA_DIR: dataDir,
    MAILROOM_HOSTNAME: 'mailroom.bench',
    MAILROOM_ROLES: 'smtp',
    MAILROOM_SMTP_HOST: '127.0.0.1',
    MAILROOM_SMTP_PORT: '0',
    MAILROOM_SMTPS_PORT: 'off',
    MAILROOM_HTTP_PORT: 'off',
    MAILROOM_INSECURE_AUTH: 'true',
    MAILROOM_SHUTDOWN_TIMEOUT: '2s',
    MAILROOM_LOG_LEVEL: 'silent',
    ...extra,
  };
}
