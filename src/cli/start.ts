import type { Command } from 'commander';
import type { RunningMailroom } from '../main.ts';
import { configFrom, reportError, withConfigFlags } from './context.ts';
import { revealFirstAdmin } from './first-admin.ts';

export function registerStartCommand(program: Command): void {
  withConfigFlags(program.command('start').description('run Mailroom (SMTP, HTTP API and dashboard, delivery)'), { listSettings: true, example: 'MAILROOM_HOSTNAME=mail.example.com mailroom start --roles smtp,http' })
    .action(async (options) => {
      let running: RunningMailroom;
      try {
        const config = configFrom(options);
        // Loaded here, not at the top: the service pulls in every library
        // (HTTP, DKIM, TLS), which would add a second to each management command.
        const { startMailroom } = await import('../main.ts');
        running = await startMailroom(config);
      } catch (error) {
        reportError(error, false);
        process.exit(process.exitCode ?? 1);
      }
      const stop = (signal: string) => {
        // Said twice on purpose: to the person at the terminal (stderr, whatever the log level)
        // and to the log (stdout, JSON).
        process.stderr.write(`Mailroom: ${signal} received, stopping gracefully\n`);
        running.logger.info({ event: 'shutdown.signal', signal }, `${signal} received, stopping gracefully`);
        running.stop().then(() => process.exit(0), () => process.exit(1));
      };
      // Before the banner: whoever waits for it may signal at once, and without a handler
      // SIGTERM would kill the process instead of stopping it gracefully.
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
      // For the person who started it; on stderr, so that stdout carries only log lines
      // (JSON for machines), and the same facts are in the log as listener.ready events.
      const lines = running.listeners.map((l) => `  ${l.name.padEnd(36)} ${l.host}:${l.port}`);
      process.stderr.write(`Mailroom is running (node ${running.nodeId}, ${running.store.engine} store):\n${lines.join('\n')}\n`);
      if (running.firstAdmin) process.stderr.write(revealFirstAdmin(running.firstAdmin, { terminal: process.stderr.isTTY === true, dataDir: running.config.dataDir }));
    });
}
