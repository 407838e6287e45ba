import { OPTIONS, flagName, type Config, type OptionKey } from './options.ts';

export class ConfigError extends Error {}

/**
 * Builds the one configuration object of the process. Flags win over
 * environment variables; a bad value stops start-up naming the variable, the
 * value and what was expected.
 */
export function loadConfig(env: NodeJS.ProcessEnv, flags: Readonly<Record<string, string | undefined>> = {}): Config {
  const values: Record<string, unknown> = {};
  for (const key of Object.keys(OPTIONS) as OptionKey[]) {
    const spec = OPTIONS[key];
    const flag = flagName(spec.env);
    const fromFlag = flags[flag];
    const raw = fromFlag ?? env[spec.env] ?? (typeof spec.default === 'function' ? spec.default() : spec.default);
    try {
      values[key] = spec.parse(raw);
    } catch (error) {
      const source = fromFlag !== undefined ? `--${flag}` : spec.env;
      throw new ConfigError(`${source}=${JSON.stringify(raw)} is invalid: ${(error as Error).message}`);
    }
  }
  // `auto`: plain-text AUTH is for the self-signed start (Gmail refuses that certificate, so the
  // guide's "Unsecured connection" is the only way in); with a CA-signed one TLS works, so it is off.
  if (values.insecureAuth === null) values.insecureAuth = values.tlsCert === null && values.acmeEmail === null;
  const config = values as Config;
  if ((config.tlsCert === null) !== (config.tlsKey === null)) {
    const [given, missing] = config.tlsCert !== null ? ['MAILROOM_TLS_CERT', 'MAILROOM_TLS_KEY'] : ['MAILROOM_TLS_KEY', 'MAILROOM_TLS_CERT'];
    throw new ConfigError(`${given}=${JSON.stringify(config.tlsCert ?? config.tlsKey)} is set but ${missing} is not: set both (PEM files) or neither (a self-signed certificate is generated)`);
  }
  return Object.freeze(config);
}
