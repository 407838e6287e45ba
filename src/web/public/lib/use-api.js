// Loading data for a page: the result, the error to show, and a way to reload.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { get } from './api.js';

/**
 * @param {string | null} path  null waits (e.g. until a parameter is known)
 * @returns {{ data: any, error: import('./api.js').ApiError | null, loading: boolean, reload: () => Promise<void>, setData: (data: any) => void }}
 */
export function useApi(path) {
  const [state, setState] = useState(/** @type {{data: any, error: any, loading: boolean}} */ ({ data: null, error: null, loading: path !== null }));
  const current = useRef(path);
  current.current = path;

  const load = useCallback(async () => {
    if (path === null) return;
    setState((s) => ({ ...s, loading: true }));
    try {
      const data = await get(path);
      if (current.current === path) setState({ data, error: null, loading: false });
    } catch (error) {
      if (current.current === path) setState((s) => ({ data: s.data, error, loading: false }));
    }
  }, [path]);

  useEffect(() => {
    setState({ data: null, error: null, loading: path !== null });
    load();
  }, [load]);

  const setData = useCallback((/** @type {any} */ data) => setState((s) => ({ ...s, data })), []);
  return { ...state, reload: load, setData };
}
