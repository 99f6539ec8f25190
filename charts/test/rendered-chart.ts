import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const root = fileURLToPath(new URL('../..', import.meta.url));
export const chartDir = fileURLToPath(new URL('../converge', import.meta.url));
export const brokenValues = (name: string): string =>
  fileURLToPath(new URL(`broken/${name}`, import.meta.url));

/** A rendered Kubernetes object, as loosely typed as YAML is; the rules below read it defensively. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

let helm: string | undefined;

/** The pinned helm of scripts/lib.sh (built into ~/.cache/converge on first use). */
export function helmBinary(): string {
  helm ??= execFileSync('bash', ['-c', 'source scripts/lib.sh && mkdir -p "$K8S_TOOLS" && helm_bin'], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
  return helm;
}

/** `helm template` of the chart with the given values files, parsed. */
export function renderChart(valuesFiles: string[] = [], opts: { skipSchema?: boolean } = {}): Manifest[] {
  const args = ['template', 'converge', chartDir, '--namespace', 'converge'];
  for (const file of valuesFiles) args.push('--values', file);
  if (opts.skipSchema) args.push('--skip-schema-validation');
  const text = execFileSync(helmBinary(), args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return parseAllDocuments(text)
    .map((document) => document.toJS() as unknown)
    .filter((manifest): manifest is Manifest => typeof manifest === 'object' && manifest !== null);
}
