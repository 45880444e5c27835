/**
 * Several workers' Prometheus texts as one: every sample gets a `worker` label and each
 * family's HELP/TYPE appears once, so the embedded start's /metrics stays valid text with
 * any number of worker processes. Pure.
 */

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(.*)$/;
const META = /^#\s+(HELP|TYPE)\s+([a-zA-Z_:][a-zA-Z0-9_:]*)\s/;

/** The family a sample belongs to (histogram series end in _bucket, _sum, _count). */
function familyOf(name: string, families: ReadonlySet<string>): string {
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (name.endsWith(suffix) && families.has(name.slice(0, -suffix.length))) return name.slice(0, -suffix.length);
  }
  return name;
}

function withLabel(labels: string | undefined, name: string, value: string): string {
  const label = `${name}="${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  if (!labels || labels === '{}') return `{${label}}`;
  return `{${label},${labels.slice(1)}`;
}

export function mergeWorkerMetrics(sources: readonly { worker: string; text: string }[]): string {
  const order: string[] = [];
  const meta = new Map<string, string[]>();
  const samples = new Map<string, string[]>();
  const touch = (family: string): void => {
    if (!meta.has(family)) {
      order.push(family);
      meta.set(family, []);
      samples.set(family, []);
    }
  };
  for (const { worker, text } of sources) {
    const families = new Set<string>();
    for (const line of text.split('\n')) {
      const m = META.exec(line);
      if (m) families.add(m[2]!);
    }
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      const m = META.exec(line);
      if (m) {
        touch(m[2]!);
        const lines = meta.get(m[2]!)!;
        if (!lines.some((l) => l.startsWith(`# ${m[1]} `))) lines.push(line);
        continue;
      }
      if (line.startsWith('#')) continue;
      const s = SAMPLE.exec(line);
      if (!s) continue;
      const family = familyOf(s[1]!, families);
      touch(family);
      samples.get(family)!.push(`${s[1]}${withLabel(s[2], 'worker', worker)} ${s[3]}`);
    }
  }
  const out = order.flatMap((family) => [...meta.get(family)!, ...samples.get(family)!]);
  return out.length > 0 ? `${out.join('\n')}\n` : '';
}
