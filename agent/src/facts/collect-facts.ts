import { readFile } from 'node:fs/promises';
import { AgentFactsSchema, DeviceType, OsFamily, create, type AgentFacts } from '@converge/proto';
import { z } from '@converge/config';
import type { Facts } from './facts.ts';
import { collectLinuxFacts, linuxSources } from './linux-facts.ts';
import { listLoggedOnSessions } from './logged-on-users.ts';
import { collectMacosFacts } from './macos-facts.ts';
import { collectWindowsFacts } from './windows-facts.ts';

/**
 * A facts override file (`run --facts <file>`, `enroll --facts <file>`): JSON whose fields replace what the
 * agent collected, for labs and tests, e.g. several simulated computers on one host. Every field is optional;
 * an unknown field is an error rather than silently ignored.
 */
export const factsOverrideSchema = z
  .object({
    hardwareUuid: z.string(),
    serialNumber: z.string(),
    manufacturer: z.string(),
    model: z.string(),
    osInstallId: z.string(),
    hostname: z.string(),
    osFamily: z.enum(['windows', 'macos', 'linux']),
    osName: z.string(),
    osVersion: z.string(),
    deviceType: z.enum(['workstation', 'portable', 'server', 'domain-controller']),
    loggedOnUpns: z.array(z.string()),
  })
  .partial()
  .strict();
export type FactsOverride = z.infer<typeof factsOverrideSchema>;

const osFamilies = { windows: OsFamily.WINDOWS, macos: OsFamily.MACOS, linux: OsFamily.LINUX } as const;
const deviceTypes = {
  workstation: DeviceType.WORKSTATION,
  portable: DeviceType.PORTABLE,
  server: DeviceType.SERVER,
  'domain-controller': DeviceType.DOMAIN_CONTROLLER,
} as const;

export async function readFactsOverride(path: string): Promise<FactsOverride> {
  const parsed = factsOverrideSchema.safeParse(JSON.parse(await readFile(path, 'utf8')));
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || '(file)'}: ${issue.message}`,
    );
    throw new Error(`facts file ${path} is invalid: ${problems.join('; ')}`);
  }
  return parsed.data;
}

export function applyFactsOverride(facts: Facts, override: FactsOverride): Facts {
  const { osFamily, deviceType, ...plain } = override;
  return {
    ...facts,
    ...plain,
    ...(osFamily ? { osFamily: osFamilies[osFamily] } : {}),
    ...(deviceType ? { deviceType: deviceTypes[deviceType] } : {}),
  };
}

/** This computer's facts, by the collector for its OS. */
export async function collectFacts(platform: NodeJS.Platform = process.platform): Promise<Facts> {
  switch (platform) {
    case 'win32':
      return collectWindowsFacts();
    case 'darwin':
      return collectMacosFacts();
    default:
      return collectLinuxFacts(linuxSources(listLoggedOnSessions));
  }
}

export function toAgentFacts(facts: Facts, agentVersion: string): AgentFacts {
  return create(AgentFactsSchema, { ...facts, agentVersion });
}
