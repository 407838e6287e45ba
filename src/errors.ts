/**
 * An error the user caused and can fix: bad input, an unknown name, a
 * duplicate. The CLI prints its message and exits non-zero; the HTTP API
 * answers with its status and `{ error: { code, message, field } }`.
 */
export type UserErrorKind = 'invalid' | 'not-found' | 'conflict' | 'forbidden';

export class UserError extends Error {
  readonly kind: UserErrorKind;
  readonly code: string;
  readonly field: string | undefined;

  constructor(kind: UserErrorKind, code: string, message: string, field?: string) {
    super(message);
    this.kind = kind;
    this.code = code;
    this.field = field;
  }
}
