/**
 * Takes the report out of a DMARC aggregate report mail: an attachment (or the whole body) that
 * is gzip (`.xml.gz`, what Google sends), zip (`.zip`, what Microsoft and Yahoo send) or plain
 * XML. postal-mime does the MIME work; node:zlib un-gzips; fflate unzips, streaming, so that
 * the output can be counted.
 *
 * Decompressed size is capped: a few kilobytes of zip or gzip can hold gigabytes of zeros, and
 * a report mail comes from anybody on the Internet. Past the cap the report is refused.
 */
import { gunzipSync } from 'node:zlib';
import PostalMime from 'postal-mime';
import type { Attachment } from 'postal-mime';
import { Unzip, UnzipInflate } from 'fflate';

/** Google's largest daily reports for busy senders are a few MB of XML; 32 MiB leaves room. */
export const MAX_REPORT_XML_BYTES = 32 * 1024 * 1024;

export class ReportAttachmentError extends Error {}

export interface ReportDocument {
  filename: string;
  xml: string;
}

/** The XML documents the mail carries, or an error saying why there is none to read. */
export async function reportDocuments(raw: Buffer, maxBytes = MAX_REPORT_XML_BYTES): Promise<ReportDocument[]> {
  let attachments: Attachment[];
  try {
    attachments = (await PostalMime.parse(raw)).attachments;
  } catch (error) {
    throw new ReportAttachmentError(`the mail is not readable MIME: ${(error as Error).message}`);
  }
  const documents: ReportDocument[] = [];
  for (const attachment of attachments) {
    const kind = kindOf(attachment);
    if (!kind) continue;
    const content = Buffer.from(attachment.content instanceof ArrayBuffer ? new Uint8Array(attachment.content) : (attachment.content as Uint8Array | string));
    const filename = attachment.filename ?? `(${attachment.mimeType})`;
    const xml = kind === 'gzip' ? gunzip(content, maxBytes, filename) : kind === 'zip' ? unzip(content, maxBytes, filename) : capped(content, maxBytes, filename);
    documents.push({ filename, xml: xml.toString('utf8') });
  }
  if (documents.length === 0) throw new ReportAttachmentError('the mail has no .xml, .xml.gz or .zip attachment');
  return documents;
}

type Kind = 'gzip' | 'zip' | 'xml';

function kindOf(attachment: Attachment): Kind | null {
  const name = (attachment.filename ?? '').toLowerCase();
  const type = attachment.mimeType.toLowerCase();
  if (name.endsWith('.gz') || name.endsWith('.gzip') || type === 'application/gzip' || type === 'application/x-gzip') return 'gzip';
  if (name.endsWith('.zip') || type === 'application/zip' || type === 'application/x-zip-compressed') return 'zip';
  if (name.endsWith('.xml') || type === 'text/xml' || type === 'application/xml') return 'xml';
  return null;
}

function gunzip(content: Buffer, maxBytes: number, filename: string): Buffer {
  try {
    return gunzipSync(content, { maxOutputLength: maxBytes });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(filename, maxBytes);
    throw new ReportAttachmentError(`${filename} is not valid gzip: ${(error as Error).message}`);
  }
}

/** The first .xml file of the archive (reports hold one), inflated while counting its bytes. */
function unzip(content: Buffer, maxBytes: number, filename: string): Buffer {
  const chunks: Uint8Array[] = [];
  let total = 0;
  let overflow = false;
  let failure: Error | null = null;
  let started = false;
  let finished = false;
  const unzipper = new Unzip((file) => {
    if (started || !file.name.toLowerCase().endsWith('.xml')) return;
    started = true;
    file.ondata = (error, chunk, final) => {
      if (error) { failure = error; return; }
      total += chunk.length;
      if (total > maxBytes) {
        overflow = true;
        file.terminate();
        return;
      }
      chunks.push(chunk);
      if (final) finished = true;
    };
    file.start();
  });
  unzipper.register(UnzipInflate);
  try {
    unzipper.push(new Uint8Array(content.buffer, content.byteOffset, content.byteLength), true);
  } catch (error) {
    failure = error as Error;
  }
  if (overflow) throw tooLarge(filename, maxBytes);
  if (failure) throw new ReportAttachmentError(`${filename} is not a valid zip archive: ${(failure as Error).message}`);
  if (!started) throw new ReportAttachmentError(`${filename} holds no .xml file`);
  if (!finished) throw new ReportAttachmentError(`${filename} ends before its .xml file does`);
  return Buffer.concat(chunks);
}

function capped(content: Buffer, maxBytes: number, filename: string): Buffer {
  if (content.length > maxBytes) throw tooLarge(filename, maxBytes);
  return content;
}

function tooLarge(filename: string, maxBytes: number): ReportAttachmentError {
  return new ReportAttachmentError(`${filename} decompresses to more than ${Math.round(maxBytes / 1024 / 1024)} MiB; refused`);
}
