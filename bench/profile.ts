// Reads a V8 .cpuprofile (node --cpu-prof) and says where the time went, as markdown: by area (our code, each
// dependency, Node internals, GC) and by function, self and inclusive. Idle time is left out of every share.
// Usage: tsx bench/profile.ts FILE.cpuprofile

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Markdown tables: busy time by area, then the top functions by self and by inclusive time. */
export function summariseProfile(profile: CpuProfile, top = 15): string {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const isIdle = (node: ProfileNode) => node.callFrame.functionName === '(idle)';
  const busyUs = [...self].reduce((sum, [id, us]) => (isIdle(byId.get(id)!) ? sum : sum + us), 0);

  const areaSelf = new Map<string, number>();
  const fnSelf = new Map<string, number>();
  const fnTotal = new Map<string, number>();
  // Inclusive time per function, counted once per stack even when the function recurses.
  const walk = (node: ProfileNode, open: Set<string>): number => {
    let total = self.get(node.id) ?? 0;
    const key = functionKey(node.callFrame);
    const reentrant = open.has(key);
    open.add(key);
    for (const child of node.children ?? []) total += walk(byId.get(child)!, open);
    if (!reentrant) open.delete(key);
    if (isIdle(node)) return 0;
    const own = self.get(node.id) ?? 0;
    add(areaSelf, areaOf(node.callFrame), own);
    add(fnSelf, key, own);
    if (!reentrant) add(fnTotal, key, total);
    return total;
  };
  const childIds = new Set(profile.nodes.flatMap((node) => node.children ?? []));
  for (const root of profile.nodes.filter((node) => !childIds.has(node.id))) walk(root, new Set());

  const share = (us: number) => `${((100 * us) / busyUs).toFixed(1)}%`;
  const rows = (map: Map<string, number>, n: number) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => `| ${name.replaceAll('|', '\\|')} | ${share(us)} | ${(us / 1000).toFixed(0)} |`);
  const ours = new Map([...fnTotal].filter(([key]) => /(coordinator|protocol)\//.test(key) || key.includes('@hono') || key.includes('hono/')));
  return [
    `Busy (non-idle) CPU time sampled: ${(busyUs / 1e6).toFixed(2)} s.`,
    '',
    '| area (self time) | share | ms |',
    '| --- | ---: | ---: |',
    ...rows(areaSelf, 12),
    '',
    '| function (self time) | share | ms |',
    '| --- | ---: | ---: |',
    ...rows(fnSelf, top),
    '',
    '| our code and Hono (inclusive time) | share | ms |',
    '| --- | ---: | ---: |',
    ...rows(ours, top),
  ].join('\n');
}

function add(map: Map<string, number>, key: string, value: number): void {
  map.set(key, (map.get(key) ?? 0) + value);
}

function functionKey({ functionName, url, lineNumber }: CallFrame): string {
  if (!url) return functionName || '(anonymous)';
  return `${functionName || '(anonymous)'} ${shortUrl(url)}:${lineNumber + 1}`;
}

function shortUrl(url: string): string {
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) return url.slice(modules + 'node_modules/'.length);
  const ours = url.search(/\/(coordinator|protocol|bench)\//);
  if (ours >= 0) return url.slice(ours + 1);
  return url.replace(/^file:\/\//, '');
}

/** Where a frame's code lives: a dependency, our own folders, Node itself, or V8 (GC, program). */
function areaOf({ functionName, url }: CallFrame): string {
  if (!url) return functionName.startsWith('(') ? `V8 ${functionName}` : `native: ${functionName || '(anonymous)'}`;
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const parts = url.slice(modules + 'node_modules/'.length).split('/');
    return `dependency: ${parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]}`;
  }
  const ours = url.match(/\/(coordinator\/src\/[^/]+|protocol)\//);
  if (ours) return `ours: ${ours[1]}`;
  if (url.startsWith('node:')) return `node: ${url.slice(5).split('/')[0]}`;
  return `other: ${shortUrl(url)}`;
}

if (process.argv[1]?.endsWith('bench/profile.ts')) {
  const { readFileSync } = await import('node:fs');
  const file = process.argv[2];
  if (!file) throw new Error('usage: tsx bench/profile.ts FILE.cpuprofile');
  console.log(summariseProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile));
}
