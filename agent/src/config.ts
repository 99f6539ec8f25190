import { readFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, logLevel, z, type LogLevel } from '@converge/config';

export interface AgentConfig {
  /** Where credential.json lives, unless `--state-dir` says otherwise. */
  stateDir: string;
  logLevel: LogLevel;
  /** Where each script gets its private directory. */
  tempDir: string;
  agentVersion: string;
}

const agentEnv = z.object({
  CONVERGE_AGENT_STATE_DIR: z.string().optional(),
  CONVERGE_AGENT_LOG_LEVEL: logLevel().default('info'),
  // Windows keeps machine-wide service data under %ProgramData%.
  ProgramData: z.string().default('C:\\ProgramData'),
});

/**
 * The state directory when neither `--state-dir` nor CONVERGE_AGENT_STATE_DIR names one: the system location
 * for an agent running as root (or as a Windows service), the user's home for one started by hand.
 */
export function defaultStateDir(
  platform: NodeJS.Platform,
  uid: number | undefined,
  programData: string,
): string {
  if (platform === 'win32') return join(programData, 'ConvergeAgent');
  return uid === 0 ? '/var/lib/converge-agent' : join(homedir(), '.converge-agent');
}

/** The only reader of the agent's environment. */
export function loadAgentConfig(env: NodeJS.ProcessEnv = process.env): AgentConfig {
  return loadConfig(
    agentEnv.transform((vars) => ({
      stateDir:
        vars.CONVERGE_AGENT_STATE_DIR ??
        defaultStateDir(process.platform, process.getuid?.(), vars.ProgramData),
      logLevel: vars.CONVERGE_AGENT_LOG_LEVEL,
      tempDir: tmpdir(),
      agentVersion: readAgentVersion(),
    })),
    env,
  );
}

function readAgentVersion(): string {
  const packageJson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version?: unknown;
  };
  return typeof packageJson.version === 'string' ? packageJson.version : 'unknown';
}
