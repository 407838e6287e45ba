/**
 * The template language: Liquid, through LiquidJS, set up as a sandbox.
 *
 * Why Liquid rather than Handlebars: LiquidJS interprets templates — it never
 * turns one into JavaScript — while Handlebars compiles every template to a
 * function, and compiling untrusted templates is where its remote-code
 * execution advisories came from. LiquidJS also bounds the work a template
 * may do (render time, memory, template size), so a `{% for %}` over a
 * million items cannot stall a node; it reads only a variable's own
 * properties (no `constructor`, no prototype); and with strictVariables and
 * strictFilters a missing variable or an unknown filter is an error that
 * carries its line and column, so no mail goes out half-rendered.
 *
 * The tags that read files (include, render, layout) are removed: a template
 * is one stored text and nothing else. The HTML body escapes every output by
 * default (`{{ name }}` of `<b>` prints `&lt;b&gt;`); `| raw` opts out.
 */
import { Liquid, LiquidError, UndefinedVariableError, type Template } from 'liquidjs';

/** Each part of a template: subject and plain text print as written, HTML escapes its outputs. */
export type TemplatePart = 'subject' | 'text' | 'html';

export const TEMPLATE_PART_LIMITS: Record<TemplatePart, number> = { subject: 998, text: 512 * 1024, html: 512 * 1024 };

/** Why a template could not be parsed or rendered, with where (1-based line and column, when known). */
export interface TemplateProblem {
  kind: 'syntax' | 'missing-variable' | 'too-expensive';
  part: TemplatePart;
  /** For a missing variable: its path as written, e.g. `order.total`. */
  variable?: string;
  line?: number;
  column?: number;
  /** The language's own words, without the position. */
  detail: string;
}

export class TemplateError extends Error {
  readonly problem: TemplateProblem;

  constructor(problem: TemplateProblem) {
    const where = problem.line !== undefined ? ` at line ${problem.line}, column ${problem.column}` : '';
    super(`${problem.part}${where}: ${problem.detail}`);
    this.problem = problem;
  }
}

const FILE_TAGS = ['include', 'render', 'layout'];

function sandboxedEngine(escapeOutput: boolean): Liquid {
  const engine = new Liquid({
    strictVariables: true,
    strictFilters: true,
    ownPropertyOnly: true,
    // Bounds on one render: milliseconds, and the size of what loops and string filters build.
    renderLimit: 500,
    memoryLimit: 8 * 1024 * 1024,
    parseLimit: TEMPLATE_PART_LIMITS.html * 2,
    jsTruthy: false,
    ...(escapeOutput ? { outputEscape: 'escape' as const } : {}),
  });
  for (const tag of FILE_TAGS) delete engine.tags[tag];
  return engine;
}

const plain = sandboxedEngine(false);
const html = sandboxedEngine(true);

const engineFor = (part: TemplatePart) => (part === 'html' ? html : plain);

export type ParsedPart = Template[];

/** Parses one part; a syntax error becomes a TemplateError naming the part, line and column. */
export function parsePart(part: TemplatePart, source: string): ParsedPart {
  try {
    return engineFor(part).parse(source);
  } catch (error) {
    throw translate(part, error);
  }
}

/** Renders one parsed part with the request's variables; every problem is a TemplateError. */
export async function renderPart(part: TemplatePart, parsed: ParsedPart, variables: Record<string, unknown>): Promise<string> {
  try {
    return await engineFor(part).render(parsed, variables);
  } catch (error) {
    throw translate(part, error);
  }
}

const POSITION_SUFFIX = /, line:\d+, col:\d+$/;

function translate(part: TemplatePart, error: unknown): Error {
  if (!(error instanceof LiquidError)) return error as Error;
  const [line, column] = error.token ? error.token.getPosition() : [undefined, undefined];
  const detail = (error.message.split('\n')[0] ?? '').replace(POSITION_SUFFIX, '');
  const at = line !== undefined ? { line, column } : {};
  if (error instanceof UndefinedVariableError) {
    const variable = detail.replace(/^undefined variable: /, '');
    return new TemplateError({ kind: 'missing-variable', part, variable, ...at, detail: `the variable "${variable}" is not in variables` });
  }
  if (/limit exceeded/i.test(detail)) return new TemplateError({ kind: 'too-expensive', part, ...at, detail });
  return new TemplateError({ kind: 'syntax', part, ...at, detail });
}
