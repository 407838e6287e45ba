/**
 * A webhook endpoint for the suites: HTTP on loopback, answering every POST
 * with 204 and keeping its JSON body.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An HTTP endpoint on loopback that takes webhook POSTs and keeps their JSON bodies. */
export interface WebhookSink {
  url: string;
  /** Each request's JSON body, in order of arrival. */
  received: Array<Record<string, any>>;
  close(): Promise<void>;
}

export async function startWebhookSink(): Promise<WebhookSink> {
  const received: WebhookSink['received'] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`, received,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
