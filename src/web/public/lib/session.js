// Who is signed in: GET /api/v1/account, which also says whether the account
// is an administrator (the API enforces it; the dashboard only hides the pages).
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import { ApiError, del, get, post } from './api.js';

/**
 * @typedef {{ account: any, isAdmin: boolean, refresh: () => Promise<void>, signOut: () => Promise<void> }} Session
 */

/** @type {import('preact').Context<Session | null>} */
export const SessionContext = createContext(/** @type {Session | null} */ (null));

/** @returns {Session} */
export function useSession() {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in page');
  return session;
}

/** The signed-in account, or null when there is no valid session. */
export async function loadAccount() {
  try {
    const account = await get('/account');
    return { account, isAdmin: account.isAdmin === true };
  } catch (error) {
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) return null;
    throw error;
  }
}

/** @param {string} email @param {string} password */
export function signIn(email, password) {
  return post('/session', { email, password });
}

export async function signOut() {
  try {
    await del('/session');
  } catch {
    // Signing out of an expired session is still signing out.
  }
}
