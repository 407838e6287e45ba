/**
 * Reads a V8 .cpuprofile (from `npm run bench -- --profile DIR`) and prints
 * where the time went: by area (Mailroom's own src/ files, each package,
 * Node internals, GC, idle), then the top functions by self and by total
 * time. Usage: node bench/tools/profile-summary.ts FILE.cpuprofile [TOP] [FROM_S]
 * FROM_S skips the first seconds of the profile (start-up, warm-up).
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

function area(url: string, name: string): string {
  if (name === '(garbage collector)' || name === '(idle)' || name === '(program)') return name;
  if (url === '') return '(native / V8 builtins)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return `pkg ${pkg[1]}`;
  if (url.startsWith('node:')) return `node ${url.slice(5).split('/')[0]}`;
  const src = /\/(src|bench)\/(.*)$/.exec(url);
  if (src) return `${src[1]}/${src[2]}`;
  return url;
}

function frameKey(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url ? `${url.replace(/^.*\/(node_modules|src|bench)\//, '$1/').replace(/^file:\/\//, '')}:${lineNumber + 1}` : '';
  return `${functionName || '(anonymous)'} ${where}`.trim();
}

function summarise(path: string, top: number, fromSeconds: number): string {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  const selfByArea = new Map<string, number>();
  const selfByFrame = new Map<string, number>();
  const totalByFrame = new Map<string, number>();
  let total = 0;
  let clock = 0;
  profile.samples.forEach((id, index) => {
    const micros = profile.timeDeltas[index] ?? 0;
    clock += micros;
    if (clock < fromSeconds * 1e6) return;
    const node = byId.get(id)!;
    total += micros;
    const a = area(node.callFrame.url, node.callFrame.functionName);
    selfByArea.set(a, (selfByArea.get(a) ?? 0) + micros);
    selfByFrame.set(frameKey(node), (selfByFrame.get(frameKey(node)) ?? 0) + micros);
    // Total time: every distinct frame on the stack once.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const key = frameKey(byId.get(at)!);
      if (seen.has(key)) continue;
      seen.add(key);
      totalByFrame.set(key, (totalByFrame.get(key) ?? 0) + micros);
    }
  });
  const busy = total - (selfByArea.get('(idle)') ?? 0);
  const pct = (micros: number) => `${((100 * micros) / busy).toFixed(1).padStart(5)}%`;
  const list = (map: Map<string, number>, n: number) => [...map].sort((a, b) => b[1] - a[1]).slice(0, n)
    .map(([key, micros]) => `  ${pct(micros)}  ${(micros / 1000).toFixed(0).padStart(7)} ms  ${key}`).join('\n');
  return [
    `${path}: ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s busy (percentages are of busy time)`,
    '\nSelf time by area:', list(new Map([...selfByArea].filter(([key]) => key !== '(idle)')), top),
    '\nSelf time by function:', list(new Map([...selfByFrame].filter(([key]) => !key.startsWith('(idle)'))), top),
    '\nTotal time (self + callees) by function:',
    list(new Map([...totalByFrame].filter(([key]) => !/^\((root|idle|program)\)/.test(key))), top),
  ].join('\n');
}

const [file, top, from] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/tools/profile-summary.ts FILE.cpuprofile [TOP]');
  process.exitCode = 2;
} else {
  console.log(summarise(file, Number(top ?? 30), Number(from ?? 0)));
}
