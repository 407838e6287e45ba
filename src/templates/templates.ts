/**
 * An account's stored templates: create, edit (each edit is a new, immutable
 * version), read, list, delete — and render one for a send. Every text is
 * parsed before it is stored, so a syntax error is found when the template is
 * saved (400 naming the part, line and column), not when mail is sent.
 */
import type { Store } from '../store/database.ts';
import { newId } from '../store/ids.ts';
import { UserError } from '../errors.ts';
import { TEMPLATE_PART_LIMITS, TemplateError, parsePart, renderPart, type ParsedPart, type TemplatePart } from './language.ts';

export const TEMPLATE_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$';
const NAME = new RegExp(TEMPLATE_NAME_PATTERN);

export interface TemplateContent {
  subject: string;
  text?: string | null;
  html?: string | null;
}

export interface TemplateView {
  name: string;
  version: number;
  /** The newest version; equal to `version` unless an older one was asked for. */
  currentVersion: number;
  subject: string;
  text: string | null;
  html: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface TemplateSummary {
  name: string;
  currentVersion: number;
  createdAt: number;
  updatedAt: number;
}

/** What a message records about the template it was rendered from. */
export interface TemplateUse {
  templateId: string;
  name: string;
  version: number;
}

export interface Rendered {
  subject: string;
  text?: string;
  html?: string;
  used: TemplateUse;
}

export async function createTemplate(store: Store, accountId: string, name: string, content: TemplateContent, now = Date.now()): Promise<TemplateView> {
  checkName(name);
  const checked = checkContent(content);
  const id = newId();
  await store.db.transaction().execute(async (tx) => {
    const existing = await tx.selectFrom('templates').select('id').where('account_id', '=', accountId).where('name', '=', name).executeTakeFirst();
    if (existing) throw new UserError('conflict', 'template_exists', `a template named ${name} exists already; PUT a new version instead`, 'name');
    await tx.insertInto('templates').values({ id, account_id: accountId, name, current_version: 1, created_at: now, updated_at: now }).execute();
    await tx.insertInto('template_versions').values({ template_id: id, version: 1, ...checked, created_at: now }).execute();
  }).catch((error: unknown) => {
    // Two creates racing: the unique index refuses the second.
    if (!(error instanceof UserError) && /unique|duplicate/i.test(String((error as Error)?.message))) {
      throw new UserError('conflict', 'template_exists', `a template named ${name} exists already; PUT a new version instead`, 'name');
    }
    throw error;
  });
  return { name, version: 1, currentVersion: 1, ...checked, createdAt: now, updatedAt: now };
}

/** Stores a new version; the version number is taken by one atomic increment, so concurrent edits each get their own. */
export async function updateTemplate(store: Store, accountId: string, name: string, content: TemplateContent, now = Date.now()): Promise<TemplateView> {
  const checked = checkContent(content);
  return store.db.transaction().execute(async (tx) => {
    const row = await tx.updateTable('templates')
      .set((eb) => ({ current_version: eb('current_version', '+', 1), updated_at: now }))
      .where('account_id', '=', accountId).where('name', '=', name)
      .returning(['id', 'current_version', 'created_at']).executeTakeFirst();
    if (!row) throw unknownTemplate(name);
    const version = Number(row.current_version);
    await tx.insertInto('template_versions').values({ template_id: row.id, version, ...checked, created_at: now }).execute();
    return { name, version, currentVersion: version, ...checked, createdAt: Number(row.created_at), updatedAt: now };
  });
}

export async function getTemplate(store: Store, accountId: string, name: string, version?: number): Promise<TemplateView> {
  const template = await findTemplate(store, accountId, name);
  const wanted = version ?? template.currentVersion;
  const row = await store.db.selectFrom('template_versions').select(['subject', 'text', 'html', 'created_at'])
    .where('template_id', '=', template.id).where('version', '=', wanted).executeTakeFirst();
  if (!row) throw new UserError('not-found', 'unknown_template_version', `template ${name} has no version ${wanted} (the newest is ${template.currentVersion})`, 'version');
  return {
    name, version: wanted, currentVersion: template.currentVersion, subject: row.subject, text: row.text, html: row.html,
    createdAt: template.createdAt, updatedAt: wanted === template.currentVersion ? template.updatedAt : Number(row.created_at),
  };
}

export async function listTemplates(store: Store, accountId: string): Promise<TemplateSummary[]> {
  const rows = await store.db.selectFrom('templates').select(['name', 'current_version', 'created_at', 'updated_at'])
    .where('account_id', '=', accountId).orderBy('name').execute();
  return rows.map((r) => ({ name: r.name, currentVersion: Number(r.current_version), createdAt: Number(r.created_at), updatedAt: Number(r.updated_at) }));
}

/** Deletes the template and its versions; messages sent from it keep its name and version in the log. */
export async function deleteTemplate(store: Store, accountId: string, name: string): Promise<void> {
  const template = await findTemplate(store, accountId, name);
  await store.db.transaction().execute(async (tx) => {
    await tx.deleteFrom('template_versions').where('template_id', '=', template.id).execute();
    await tx.deleteFrom('templates').where('id', '=', template.id).execute();
  });
}

/**
 * Renders the template's newest version with `variables`. All parts are
 * rendered before anything is returned, so a problem in any part refuses
 * the whole send: nothing half-rendered is ever queued.
 */
export async function renderTemplate(store: Store, accountId: string, name: string, variables: Record<string, unknown>): Promise<Rendered> {
  const template = await findTemplate(store, accountId, name, 'template');
  const parsed = await parsedVersion(store, template.id, template.currentVersion);
  const used = { templateId: template.id, name, version: template.currentVersion };
  return { ...(await renderParsed(parsed, variables, `template ${name} (version ${template.currentVersion}), `, 'template')), used };
}

/** Renders unsaved content, for the dashboard's live preview: the same checks and errors as saving and sending. */
export async function previewTemplate(content: TemplateContent, variables: Record<string, unknown>): Promise<Omit<Rendered, 'used'>> {
  const checked = checkContent(content);
  const parsed = {
    subject: parsePart('subject', checked.subject),
    text: checked.text === null ? null : parsePart('text', checked.text),
    html: checked.html === null ? null : parsePart('html', checked.html),
  };
  return renderParsed(parsed, variables, '', null);
}

async function renderParsed(parsed: ParsedTemplate, variables: Record<string, unknown>, prefix: string, syntaxField: string | null): Promise<Omit<Rendered, 'used'>> {
  try {
    const subject = await renderPart('subject', parsed.subject, variables);
    const text = parsed.text ? await renderPart('text', parsed.text, variables) : undefined;
    const html = parsed.html ? await renderPart('html', parsed.html, variables) : undefined;
    return { subject, ...(text !== undefined ? { text } : {}), ...(html !== undefined ? { html } : {}) };
  } catch (error) {
    if (!(error instanceof TemplateError)) throw error;
    const { problem } = error;
    const message = `${prefix}${error.message}`;
    if (problem.kind === 'missing-variable') throw new UserError('invalid', 'missing_variable', message, `variables.${problem.variable}`);
    if (problem.kind === 'too-expensive') throw new UserError('invalid', 'template_too_expensive', `${message}: the rendering went over its time or memory bound`, 'variables');
    throw new UserError('invalid', 'template_syntax', message, syntaxField ?? problem.part);
  }
}

interface TemplateRow {
  id: string;
  currentVersion: number;
  createdAt: number;
  updatedAt: number;
}

async function findTemplate(store: Store, accountId: string, name: string, field = 'name'): Promise<TemplateRow> {
  const row = await store.db.selectFrom('templates').select(['id', 'current_version', 'created_at', 'updated_at'])
    .where('account_id', '=', accountId).where('name', '=', name).executeTakeFirst();
  if (!row) throw unknownTemplate(name, field);
  return { id: row.id, currentVersion: Number(row.current_version), createdAt: Number(row.created_at), updatedAt: Number(row.updated_at) };
}

function unknownTemplate(name: string, field = 'name'): UserError {
  return new UserError('not-found', 'unknown_template', `there is no template named ${name} in this account`, field);
}

// Versions never change, so a parsed version can be kept; a bounded map, oldest entry out first.
const PARSED_CACHE_SIZE = 500;
const parsedCache = new Map<string, ParsedTemplate>();

interface ParsedTemplate {
  subject: ParsedPart;
  text: ParsedPart | null;
  html: ParsedPart | null;
}

async function parsedVersion(store: Store, templateId: string, version: number): Promise<ParsedTemplate> {
  const key = `${templateId}:${version}`;
  const cached = parsedCache.get(key);
  if (cached) return cached;
  const row = await store.db.selectFrom('template_versions').select(['subject', 'text', 'html'])
    .where('template_id', '=', templateId).where('version', '=', version).executeTakeFirstOrThrow();
  const parsed = {
    subject: parsePart('subject', row.subject),
    text: row.text === null ? null : parsePart('text', row.text),
    html: row.html === null ? null : parsePart('html', row.html),
  };
  parsedCache.set(key, parsed);
  if (parsedCache.size > PARSED_CACHE_SIZE) parsedCache.delete(parsedCache.keys().next().value!);
  return parsed;
}

function checkName(name: string): void {
  if (!NAME.test(name)) {
    throw new UserError('invalid', 'invalid_template_name', 'a template name is 1–100 letters, digits, dots, dashes or underscores, starting with a letter or digit', 'name');
  }
}

/** Sizes, a body to send, and every part parsed; a syntax error names its part, line and column. */
function checkContent(content: TemplateContent): { subject: string; text: string | null; html: string | null } {
  const text = content.text ?? null;
  const html = content.html ?? null;
  if (text === null && html === null) throw new UserError('invalid', 'missing_body', 'a template needs text, html or both', 'text');
  const parts: Array<[TemplatePart, string | null]> = [['subject', content.subject], ['text', text], ['html', html]];
  for (const [part, source] of parts) {
    if (source === null) continue;
    if (source.length > TEMPLATE_PART_LIMITS[part]) throw new UserError('invalid', 'template_too_long', `${part} is longer than ${TEMPLATE_PART_LIMITS[part]} characters`, part);
    try {
      parsePart(part, source);
    } catch (error) {
      if (error instanceof TemplateError) throw new UserError('invalid', 'template_syntax', error.message, part);
      throw error;
    }
  }
  return { subject: content.subject, text, html };
}
