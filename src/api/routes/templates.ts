/**
 * The account's stored templates: create (version 1), PUT a new version,
 * read any version, list, delete. Sending from one is POST /messages with
 * `template` + `variables`.
 */
import { Type } from 'typebox';
import type { ApiApp, HttpDeps } from '../deps.ts';
import { principalOf } from '../auth.ts';
import { ERRORS, NoContent, Timestamp, iso } from '../schemas.ts';
import { TEMPLATE_PART_LIMITS } from '../../templates/language.ts';
import {
  TEMPLATE_NAME_PATTERN, createTemplate, deleteTemplate, getTemplate, listTemplates, previewTemplate, updateTemplate, type TemplateView,
} from '../../templates/templates.ts';

const Name = Type.String({ pattern: TEMPLATE_NAME_PATTERN, description: 'unique in the account: letters, digits, dots, dashes, underscores' });

const contentFields = {
  subject: Type.String({ maxLength: TEMPLATE_PART_LIMITS.subject, description: 'Liquid, e.g. "Welcome, {{ name }}"' }),
  text: Type.Optional(Type.Union([Type.String({ maxLength: TEMPLATE_PART_LIMITS.text }), Type.Null()], { description: 'the plain-text body (Liquid)' })),
  html: Type.Optional(Type.Union([Type.String({ maxLength: TEMPLATE_PART_LIMITS.html }), Type.Null()], { description: 'the HTML body (Liquid; every output is HTML-escaped unless piped through `raw`)' })),
};

const TemplateDetail = Type.Object({
  name: Type.String(), version: Type.Integer(), currentVersion: Type.Integer(),
  subject: Type.String(), text: Type.Union([Type.String(), Type.Null()]), html: Type.Union([Type.String(), Type.Null()]),
  createdAt: Timestamp, updatedAt: Timestamp,
});

const TemplateSummary = Type.Object({ name: Type.String(), currentVersion: Type.Integer(), createdAt: Timestamp, updatedAt: Timestamp });

const NameParam = Type.Object({ name: Name });

export function templateRoutes(app: ApiApp, deps: HttpDeps): void {
  const { store } = deps;

  app.get('/templates', {
    schema: { tags: ['templates'], summary: "The account's templates, by name", response: { 200: Type.Object({ items: Type.Array(TemplateSummary) }), ...ERRORS } },
  }, async (request) => {
    const items = await listTemplates(store, principalOf(request).accountId);
    return { items: items.map((t) => ({ ...t, createdAt: iso(t.createdAt), updatedAt: iso(t.updatedAt) })) };
  });

  app.post('/templates', {
    schema: {
      tags: ['templates'], summary: 'Create a template (version 1); a syntax error is a 400 naming the part, line and column',
      body: Type.Object({ name: Name, ...contentFields }, { additionalProperties: false }),
      response: { 201: TemplateDetail, ...ERRORS },
    },
  }, async (request, reply) => {
    const { name, ...content } = request.body;
    return reply.code(201).send(view(await createTemplate(store, principalOf(request).accountId, name, content)));
  });

  app.post('/templates/preview', {
    schema: {
      tags: ['templates'], summary: 'Render unsaved template content with sample variables (the live preview); errors name the part, line and column',
      body: Type.Object({ ...contentFields, variables: Type.Optional(Type.Record(Type.String(), Type.Unknown())) }, { additionalProperties: false }),
      response: { 200: Type.Object({ subject: Type.String(), text: Type.Optional(Type.String()), html: Type.Optional(Type.String()) }), ...ERRORS },
    },
  }, async (request) => {
    const { variables, ...content } = request.body;
    return previewTemplate(content, variables ?? {});
  });

  app.get('/templates/:name', {
    schema: {
      tags: ['templates'], summary: 'A template: its newest version, or the one asked for',
      params: NameParam, querystring: Type.Object({ version: Type.Optional(Type.Integer({ minimum: 1 })) }),
      response: { 200: TemplateDetail, ...ERRORS },
    },
  }, async (request) => view(await getTemplate(store, principalOf(request).accountId, request.params.name, request.query.version)));

  app.put('/templates/:name', {
    schema: {
      tags: ['templates'], summary: 'Store a new version; messages already sent keep the version they used',
      params: NameParam, body: Type.Object(contentFields, { additionalProperties: false }), response: { 200: TemplateDetail, ...ERRORS },
    },
  }, async (request) => view(await updateTemplate(store, principalOf(request).accountId, request.params.name, request.body)));

  app.delete('/templates/:name', {
    schema: { tags: ['templates'], summary: 'Delete a template and its versions (the message log keeps naming it)', params: NameParam, response: { 204: NoContent, ...ERRORS } },
  }, async (request, reply) => {
    await deleteTemplate(store, principalOf(request).accountId, request.params.name);
    return reply.code(204).send(null);
  });
}

function view(t: TemplateView) {
  return { ...t, createdAt: iso(t.createdAt), updatedAt: iso(t.updatedAt) };
}
