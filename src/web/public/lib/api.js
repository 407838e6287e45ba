// The dashboard's only door to the server: JSON over /api/v1 with the session
// cookie. Every failure becomes an ApiError carrying the API's own sentence,
// so pages show "the domain example.com has already been added", never a status code.

export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string} message
   * @param {string | undefined} field
   */
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

/** Pages listen for this to send the user back to the login page. */
export const UNAUTHORIZED_EVENT = 'mailroom:unauthorized';

/**
 * @param {string} method
 * @param {string} path  under /api/v1, e.g. '/domains'
 * @param {unknown} [body]
 * @returns {Promise<any>}
 */
export async function request(method, path, body) {
  /** @type {RequestInit} */
  const init = { method, credentials: 'same-origin', headers: { accept: 'application/json' } };
  if (body !== undefined) {
    init.headers = { ...init.headers, 'content-type': 'application/json' };
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(`/api/v1${path}`, init);
  } catch {
    throw new ApiError(0, 'network', 'Mailroom could not be reached. Check your connection and try again.', undefined);
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (response.ok) return data;
  if (response.status === 401 && path !== '/session') window.dispatchEvent(new CustomEvent(UNAUTHORIZED_EVENT));
  const error = data && data.error ? data.error : {};
  throw new ApiError(response.status, error.code || `http_${response.status}`, error.message || fallbackMessage(response.status), error.field);
}

/** @param {number} status */
function fallbackMessage(status) {
  if (status === 401) return 'Your session has ended. Please sign in again.';
  if (status === 403) return 'Your account is not allowed to do this.';
  if (status === 404) return 'Not found.';
  if (status === 429) return 'Too many requests. Wait a moment and try again.';
  if (status >= 500) return 'Mailroom had a problem answering. Try again in a moment.';
  return `The request failed (HTTP ${status}).`;
}

/** @param {string} path */
export const get = (path) => request('GET', path);
/** @param {string} path @param {unknown} [body] */
export const post = (path, body = {}) => request('POST', path, body);
/** @param {string} path @param {unknown} body */
export const patch = (path, body) => request('PATCH', path, body);
/** @param {string} path */
export const del = (path) => request('DELETE', path);

/**
 * A query string from the non-empty values only.
 * @param {Record<string, string | number | undefined | null>} params
 */
export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** @param {string} segment */
export const enc = (segment) => encodeURIComponent(segment);
