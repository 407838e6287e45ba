/**
 * Reads the DATA stream into memory, stopping at the size limit, and watches
 * for bare CR or LF: only CRLF may end a line, so a message can never smuggle
 * a second one past a downstream server that reads line endings differently
 * (CVE-2023-51764 family). The SMTP library already ends DATA only on
 * <CRLF>.<CRLF>.
 */
import type { Readable } from 'node:stream';

export interface DataRead {
  raw: Buffer;
  tooBig: boolean;
  bareLineEnding: boolean;
}

const CR = 0x0d;
const LF = 0x0a;

export function readDataStream(stream: Readable, maxSize: number): Promise<DataRead> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    let bare = false;
    let previousWasCr = false;
    stream.on('data', (chunk: Buffer) => {
      if (!bare) {
        bare = hasBareLineEnding(chunk, previousWasCr);
        previousWasCr = chunk[chunk.length - 1] === CR;
      }
      size += chunk.length;
      if (size > maxSize) tooBig = true;
      if (!tooBig) chunks.push(chunk);
    });
    stream.once('end', () => {
      // A CR as the very last byte had no LF after it.
      if (previousWasCr) bare = true;
      resolve({ raw: tooBig ? Buffer.alloc(0) : Buffer.concat(chunks, size), tooBig, bareLineEnding: bare });
    });
    stream.once('error', reject);
  });
}

/** `previousWasCr`: the chunk before this one ended in CR, so a leading LF completes it. */
export function hasBareLineEnding(chunk: Buffer, previousWasCr: boolean): boolean {
  if (previousWasCr && chunk.length > 0 && chunk[0] !== LF) return true;
  for (let i = chunk.indexOf(LF); i !== -1; i = chunk.indexOf(LF, i + 1)) {
    if (i === 0 ? !previousWasCr : chunk[i - 1] !== CR) return true;
  }
  for (let i = chunk.indexOf(CR); i !== -1; i = chunk.indexOf(CR, i + 1)) {
    if (i + 1 < chunk.length && chunk[i + 1] !== LF) return true;
  }
  return false;
}
