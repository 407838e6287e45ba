/**
 * An open-loop SMTP client: messages go out on a fixed schedule (message k at
 * k / rate seconds), over a few persistent authenticated connections, whatever
 * the server's pace. A steady rate below the server's capacity is what a
 * memory run needs: the same work every minute, so any growth is the
 * server's, not the load's.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { SmtpWire } from '../../test/support/smtp-wire.ts';
import { dataPayload } from '../load/message.ts';
import type { LoadTarget } from '../load/job.ts';

export interface PacedCounts {
  accepted: number;
  errors: number;
  firstError: string | null;
  /** Turns skipped because every connection was still busy over a second after them: the server fell behind the rate. */
  skipped: number;
}

export class PacedSender {
  readonly counts: PacedCounts = { accepted: 0, errors: 0, firstError: null, skipped: 0 };
  #wires: SmtpWire[];
  #target: LoadTarget;
  #payload: Buffer;
  #stopped = false;
  #running: Promise<void> | null = null;

  private constructor(wires: SmtpWire[], target: LoadTarget, size: number) {
    this.#wires = wires;
    this.#target = target;
    this.#payload = dataPayload({ from: target.mailFrom, to: target.rcptTo, size });
  }

  static async connect(target: LoadTarget, connections: number, size: number): Promise<PacedSender> {
    const wires = await Promise.all(Array.from({ length: connections }, async () => {
      const wire = await SmtpWire.connect(target.host, target.port);
      const credentials = Buffer.from(`\0${target.user}\0${target.password}`).toString('base64');
      for (const [line, code] of [[null, 220], ['EHLO paced.bench.client', 250], [`AUTH PLAIN ${credentials}`, 235]] as const) {
        if (line) wire.write(`${line}\r\n`);
        const reply = await wire.read();
        if (reply.code !== code) throw new Error(`${line?.split(' ')[0] ?? 'greeting'}: ${reply.code} ${reply.text}`);
      }
      return wire;
    }));
    return new PacedSender(wires, target, size);
  }

  /** Starts sending `rate` messages per second until stop(). */
  start(rate: number): void {
    const startedAt = performance.now();
    let next = 0;
    this.#running = Promise.all(this.#wires.map(async (wire) => {
      try {
        while (!this.#stopped) {
          const seq = next++;
          const wait = startedAt + (seq * 1000) / rate - performance.now();
          // Never catch up in a burst: a steady load is the point, and a burst would show as growth.
          if (wait < -1000) {
            this.counts.skipped++;
            continue;
          }
          if (wait > 0) await sleep(wait);
          if (this.#stopped) return;
          await this.#send(wire);
        }
      } catch (error) {
        // A lost connection ends its share of the load; the others go on.
        this.counts.errors++;
        this.counts.firstError ??= (error as Error).message;
      }
    })).then(() => undefined);
  }

  async #send(wire: SmtpWire): Promise<void> {
    wire.write(`MAIL FROM:<${this.#target.mailFrom}>\r\nRCPT TO:<${this.#target.rcptTo}>\r\nDATA\r\n`);
    const replies = [await wire.read(), await wire.read(), await wire.read()];
    let final = replies[2];
    if (final.code === 354) {
      wire.write(this.#payload);
      final = await wire.read();
    } else {
      wire.write('RSET\r\n');
      await wire.read();
    }
    if (final.code === 250) {
      this.counts.accepted++;
    } else {
      this.counts.errors++;
      this.counts.firstError ??= `${final.code} ${final.text}`;
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#running;
    for (const wire of this.#wires) wire.close();
  }
}
