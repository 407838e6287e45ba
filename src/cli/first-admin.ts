/**
 * The first start's admin password, shown once and never logged (logs are
 * kept and shipped). On a terminal it is printed under the banner; when
 * the output is not a terminal (a service manager, a container) it goes to
 * a file only its owner can read, as Jenkins and GitLab do with theirs, and
 * the banner says where. `mailroom accounts set-password` replaces it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export function revealFirstAdmin(admin: { email: string; password: string }, options: { terminal: boolean; dataDir: string }): string {
  const reset = `change it in the dashboard or with \`mailroom accounts set-password ${admin.email}\``;
  if (options.terminal) return `First start: dashboard login ${admin.email} / ${admin.password}\n  (shown only now; ${reset})\n`;
  const file = resolve(join(options.dataDir, 'initial-admin-password'));
  mkdirSync(resolve(options.dataDir), { recursive: true });
  writeFileSync(file, `${admin.email}\n${admin.password}\n`, { mode: 0o600 });
  return `First start: dashboard login ${admin.email}; its password is in ${file} (readable by this user only: read it, delete it, ${reset})\n`;
}
