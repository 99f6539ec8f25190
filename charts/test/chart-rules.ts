import { parseDuration } from '@converge/config';
// The gateway's own formula for its drain window, so the rule follows the service if it changes.
import { drainWindowMs } from '../../services/agent-gateway/src/domain/drain-schedule.ts';
import type { Manifest } from './rendered-chart.ts';

/** Variables that hold secrets: they may only come from Secret references. */
export const secretVariables = [
  'MONGO_URI',
  'REDIS_URL',
  'REDIS_PASSWORD',
  'KAFKA_SASL_PASSWORD',
  'DEPLOYMENT_SECRETS_KEY',
  'INTEGRATION_SECRETS_KEY',
  'OIDC_CLIENT_SECRET',
  'SESSION_SECRET',
];

// The hard-exit timer runService arms after SHUTDOWN_TIMEOUT (packages/runtime/src/run-service.ts).
const hardExitAfterDeadlineMs = 1_000;

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: unknown; fieldRef?: unknown };
}
interface Container {
  name: string;
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string } }[];
  securityContext?: SecurityContext;
  lifecycle?: { preStop?: { sleep?: { seconds: number } } };
}
interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
}
interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  securityContext?: SecurityContext;
  terminationGracePeriodSeconds?: number;
}

/** Every pod spec the chart renders (Deployments and test hooks), with the name of its owner. */
export function podSpecs(manifests: Manifest[]): { owner: string; spec: PodSpec }[] {
  return manifests.flatMap((manifest) => {
    if (manifest.kind === 'Pod')
      return [{ owner: `Pod/${manifest.metadata.name}`, spec: manifest.spec as PodSpec }];
    const template = (manifest.spec as { template?: { spec?: PodSpec } } | undefined)?.template?.spec;
    return template ? [{ owner: `${manifest.kind}/${manifest.metadata.name}`, spec: template }] : [];
  });
}

function configMapData(manifests: Manifest[], name: string): Record<string, string> {
  const configMap = manifests.find(
    (manifest) => manifest.kind === 'ConfigMap' && manifest.metadata.name === name,
  );
  return (configMap?.data as Record<string, string> | undefined) ?? {};
}

/**
 * The gateway's variables as its container would see them (its ConfigMaps in envFrom order, then env), and the
 * pod's grace period against the drain: SIGTERM comes after the preStop sleep; the gateway drains for
 * drainWindowMs(SHUTDOWN_TIMEOUT, DRAIN_MARGIN) and exits at the latest 1 s after SHUTDOWN_TIMEOUT. The kubelet's
 * SIGKILL must come after both.
 */
export function gatewayGraceProblems(manifests: Manifest[]): string[] {
  const gateway = manifests.find(
    (manifest) =>
      manifest.kind === 'Deployment' &&
      manifest.metadata.labels?.['app.kubernetes.io/component'] === 'agent-gateway',
  );
  if (!gateway) return ['no agent-gateway Deployment'];
  const pod = podSpecs([gateway])[0]!.spec;
  const container = pod.containers[0]!;
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? [])
    if (source.configMapRef) Object.assign(env, configMapData(manifests, source.configMapRef.name));
  for (const variable of container.env ?? [])
    if (variable.value !== undefined) env[variable.name] = variable.value;

  // The services' defaults (packages/config, services/agent-gateway/src/config.ts) when the chart sets nothing.
  const shutdownMs = parseDuration(env.SHUTDOWN_TIMEOUT ?? '20s');
  const marginMs = parseDuration(env.DRAIN_MARGIN ?? '3s');
  if (shutdownMs === undefined || marginMs === undefined)
    return ['SHUTDOWN_TIMEOUT or DRAIN_MARGIN is not a duration'];
  const preStopMs = (container.lifecycle?.preStop?.sleep?.seconds ?? 0) * 1000;
  const graceMs = (pod.terminationGracePeriodSeconds ?? 30) * 1000;
  const drainDeadlineMs = preStopMs + drainWindowMs(shutdownMs, marginMs);
  const exitDeadlineMs = preStopMs + shutdownMs + hardExitAfterDeadlineMs;
  const problems: string[] = [];
  if (graceMs <= drainDeadlineMs)
    problems.push(`grace period ${graceMs} ms does not exceed the drain deadline ${drainDeadlineMs} ms`);
  if (graceMs <= exitDeadlineMs)
    problems.push(
      `grace period ${graceMs} ms does not exceed the process's own exit deadline ${exitDeadlineMs} ms`,
    );
  return problems;
}

/** Containers that could run as root or write their root filesystem. */
export function securityProblems(manifests: Manifest[]): string[] {
  return podSpecs(manifests).flatMap(({ owner, spec }) =>
    [...spec.containers, ...(spec.initContainers ?? [])].flatMap((container) => {
      const pod = spec.securityContext ?? {};
      const own = container.securityContext ?? {};
      const where = `${owner} container ${container.name}`;
      const problems: string[] = [];
      const nonRoot = own.runAsNonRoot ?? pod.runAsNonRoot;
      const user = own.runAsUser ?? pod.runAsUser;
      if (nonRoot !== true) problems.push(`${where}: runAsNonRoot is not true`);
      if (user === 0) problems.push(`${where}: runs as user 0`);
      if (own.readOnlyRootFilesystem !== true) problems.push(`${where}: root filesystem is writable`);
      if (own.allowPrivilegeEscalation !== false) problems.push(`${where}: privilege escalation is allowed`);
      return problems;
    }),
  );
}

// user:password@ in a URI.
const credentialsInUri = /:\/\/[^\s/@:]*:[^\s/@]+@/;

/** Secrets where they do not belong: in a ConfigMap, as a literal env value, or as a rendered Secret. */
export function secretProblems(manifests: Manifest[]): string[] {
  const problems: string[] = [];
  for (const manifest of manifests) {
    if (manifest.kind === 'Secret')
      problems.push(`Secret/${manifest.metadata.name} rendered: the chart only references secrets`);
    if (manifest.kind !== 'ConfigMap') continue;
    for (const [key, value] of Object.entries((manifest.data as Record<string, string> | undefined) ?? {})) {
      if (secretVariables.includes(key)) problems.push(`ConfigMap/${manifest.metadata.name} holds ${key}`);
      else if (credentialsInUri.test(value))
        problems.push(`ConfigMap/${manifest.metadata.name} ${key} carries credentials`);
    }
  }
  for (const { owner, spec } of podSpecs(manifests))
    for (const container of spec.containers)
      for (const variable of container.env ?? []) {
        if (!secretVariables.includes(variable.name) || variable.value === undefined) continue;
        // REDIS_URL built from a host and $(REDIS_PASSWORD), which Kubernetes substitutes from a secretKeyRef.
        const substituted =
          variable.value.includes('$(REDIS_PASSWORD)') &&
          !credentialsInUri.test(variable.value.replace(':$(REDIS_PASSWORD)@', '@'));
        if (!substituted) problems.push(`${owner}: ${variable.name} is a literal value`);
      }
  return problems;
}
