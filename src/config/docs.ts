/** The configuration table of the README, generated from the one option table so the two cannot drift. */
import { OPTIONS, flagName } from './options.ts';

export function configurationTable(): string {
  const rows = Object.values(OPTIONS).map((spec) => {
    const def = typeof spec.default === 'function' ? 'the machine\'s host name' : spec.default === '' ? 'off' : `\`${spec.default}\``;
    return `| \`${spec.env}\` | \`--${flagName(spec.env)}\` | ${def} | ${spec.help} |`;
  });
  return ['| variable | flag | default | meaning |', '|---|---|---|---|', ...rows].join('\n');
}
