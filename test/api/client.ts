/**
 * A tiny HTTP client for the API suites: real fetch against the test
 * Mailroom's HTTP port, answering status, headers and parsed JSON.
 */
import { startTestMailroom, type TestMailroom } from '../support/mailroom.ts';
import type { EngineName } from '../support/stores.ts';

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export interface ApiClient {
  base: string;
  call<T = any>(method: string, path: string, options?: { body?: unknown; raw?: string; headers?: Record<string, string>; auth?: string | null }): Promise<ApiResponse<T>>;
  get<T = any>(path: string): Promise<ApiResponse<T>>;
  post<T = any>(path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse<T>>;
  del<T = any>(path: string): Promise<ApiResponse<T>>;
}

/** `secret` is sent as the bearer token on every call unless a call says otherwise. */
export function apiClient(port: number, secret: string | null): ApiClient {
  const base = `http://127.0.0.1:${port}`;
  const call: ApiClient['call'] = async (method, path, options = {}) => {
    const auth = options.auth === undefined ? secret : options.auth;
    const headers: Record<string, string> = { ...(auth ? { authorization: `Bearer ${auth}` } : {}), ...options.headers };
    let body: string | undefined;
    if (options.raw !== undefined) body = options.raw;
    else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(base + path, { method, headers, body });
    const text = await response.text();
    let parsed: unknown = text;
    if ((response.headers.get('content-type') ?? '').includes('json') && text !== '') parsed = JSON.parse(text);
    return { status: response.status, headers: response.headers, body: parsed as never };
  };
  return {
    base, call,
    get: (path) => call('GET', path),
    post: (path, body = {}, headers) => call('POST', path, { body, headers }),
    del: (path) => call('DELETE', path),
  };
}

export type TestSender = Awaited<ReturnType<TestMailroom['createSender']>>;

/** A Mailroom with the smtp and http roles, one sender with a verified domain, and an API client holding its key. */
export async function startWithSender(engine: EngineName): Promise<{ m: TestMailroom; sender: TestSender; api: ApiClient }> {
  const m = await startTestMailroom(engine, { MAILROOM_ROLES: 'smtp,http' });
  const sender = await m.createSender();
  return { m, sender, api: apiClient(m.port('http'), sender.secret) };
}
