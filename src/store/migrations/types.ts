import type { Engine } from '../database.ts';

export function binaryType(engine: Engine) {
  return engine === 'sqlite' ? 'blob' : 'bytea';
}

/** An auto-incrementing integer key on either engine. */
export function serialType(engine: Engine) {
  return engine === 'sqlite' ? 'integer' : 'bigserial';
}
