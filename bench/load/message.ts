/**
 * The message every client sends, built once per size and reused: a plain
 * text mail with the headers a mail library writes, padded with 76-character
 * lines to exactly the requested size, already terminated for DATA.
 */
export interface MessageParts {
  from: string;
  to: string;
  size: number;
}

const LINE = 'The quick brown fox jumps over the lazy dog while the benchmark keeps going.';

/** The bytes sent after the 354: the message (CRLF line endings) plus the terminating `.` line. */
export function dataPayload(parts: MessageParts): Buffer {
  const headers = [
    `From: Mailroom Bench <${parts.from}>`,
    `To: <${parts.to}>`,
    `Subject: Benchmark message of ${parts.size} bytes`,
    'Date: Mon, 01 Jun 2026 12:00:00 +0000',
    `Message-ID: <bench-${parts.size}@bench.client>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 7bit',
  ].join('\r\n') + '\r\n\r\n';
  let body = '';
  let remaining = parts.size - headers.length;
  while (remaining > 0) {
    // Every line ends in CRLF and none starts with a dot, so nothing needs dot-stuffing.
    let length = Math.min(LINE.length, remaining - 2);
    // Never leave a single byte over, which no line could hold.
    if (remaining - (length + 2) === 1) length -= 1;
    body += length > 0 ? LINE.slice(0, length) + '\r\n' : '\r\n';
    remaining -= Math.max(length, 0) + 2;
  }
  const message = headers + body;
  return Buffer.from(message + '.\r\n', 'latin1');
}
