/**
 * The service's log: JSON lines on stdout for machines (journald, Loki, jq),
 * or human lines through pino-pretty for a person at a terminal. Nothing else
 * writes to stdout while the service runs, so every line there is one or the
 * other, never a mix (the start-up banner goes to stderr).
 */
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { Config } from './config/options.ts';

export function createLogger(config: Pick<Config, 'logLevel' | 'logFormat' | 'nodeId'>, stdoutIsTty: boolean = process.stdout.isTTY === true): Logger {
  const options = { level: config.logLevel, base: { node: config.nodeId ?? undefined } };
  const human = config.logFormat === 'pretty' || (config.logFormat === 'auto' && stdoutIsTty);
  if (!human) return pino(options);
  // sync: lines appear in order with the stderr banner, and none is lost at process.exit.
  return pino(options, pretty({ sync: true, colorize: stdoutIsTty, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,node' }));
}
