/**
 * POST /api/v1/messages with `template` + `variables`: the stored template is
 * rendered into the subject and bodies before anything else is checked, so
 * the rest of the send is the same as for a message written in full. Every
 * part is rendered first; a missing variable refuses the whole message.
 */
import type { Store } from '../store/database.ts';
import { renderTemplate, type TemplateUse } from '../templates/templates.ts';
import type { MessageInput } from './compose-message.ts';
import { ApiError } from './errors.ts';
import { UserError } from '../errors.ts';

export interface TemplateFields {
  template?: string;
  variables?: Record<string, unknown>;
}

const BODY_FIELDS = ['subject', 'text', 'html', 'raw'] as const;

/** The request with the template rendered into it, and which version that was (null without a template). */
export async function applyTemplate(store: Store, accountId: string, input: MessageInput & TemplateFields): Promise<{ input: MessageInput; template: TemplateUse | null }> {
  const { template, variables, ...rest } = input;
  if (template === undefined) {
    if (variables !== undefined) throw new ApiError(400, 'variables_without_template', 'variables are given to a template: name one in template', 'variables');
    return { input: rest, template: null };
  }
  const mixed = BODY_FIELDS.find((name) => rest[name] !== undefined);
  if (mixed) throw new ApiError(400, 'template_with_fields', `${mixed} cannot be combined with template: the template provides it`, mixed);
  const rendered = await renderTemplate(store, accountId, template, variables ?? {}).catch((error: unknown) => {
    // To a sender, naming a template that does not exist is bad input in the request, not a missing resource.
    if (error instanceof UserError && error.code === 'unknown_template') throw new ApiError(400, error.code, error.message, 'template');
    throw error;
  });
  // A variable may hold a line break, which would start a header of its own in Subject.
  if (/[\r\n]/.test(rendered.subject)) {
    throw new ApiError(400, 'header_injection', `template ${template}: the rendered subject contains a line break; check the variables it prints`, 'variables');
  }
  return { input: { ...rest, subject: rendered.subject, text: rendered.text, html: rendered.html }, template: rendered.used };
}
