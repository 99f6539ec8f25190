import { accessSync, constants, statSync } from 'node:fs';
import { join } from 'node:path';

export const scriptLanguages = ['bash', 'sh', 'pwsh', 'powershell', 'cmd'] as const;
export type ScriptLanguageName = (typeof scriptLanguages)[number];

export interface Interpreter {
  executable: string;
  /** The script file's extension: PowerShell refuses `-File` without `.ps1`, cmd needs `.cmd`. */
  extension: string;
  /** Arguments that run `scriptPath` without profiles or prompts. */
  args: (scriptPath: string) => string[];
}

interface InterpreterSpec {
  /** Executable names to look for on PATH, first match wins. */
  names: Partial<Record<NodeJS.Platform, readonly string[]>> & { default: readonly string[] };
  extension: string;
  args: (scriptPath: string) => string[];
}

const powershellArgs = (scriptPath: string): string[] => [
  '-NoLogo',
  '-NoProfile',
  '-NonInteractive',
  '-ExecutionPolicy',
  'Bypass',
  '-File',
  scriptPath,
];

const specs: Record<ScriptLanguageName, InterpreterSpec> = {
  bash: { names: { default: ['bash'] }, extension: '.sh', args: (p) => ['--noprofile', '--norc', p] },
  sh: { names: { default: ['sh'] }, extension: '.sh', args: (p) => [p] },
  pwsh: { names: { win32: ['pwsh.exe'], default: ['pwsh'] }, extension: '.ps1', args: powershellArgs },
  // Windows PowerShell 5.1 exists only on Windows; elsewhere `powershell` would be a pwsh alias at best.
  powershell: { names: { win32: ['powershell.exe'], default: [] }, extension: '.ps1', args: powershellArgs },
  // /d skips AutoRun commands from the registry, /c runs the file and exits.
  cmd: { names: { win32: ['cmd.exe'], default: [] }, extension: '.cmd', args: (p) => ['/d', '/c', p] },
};

/**
 * Finds each language's interpreter on PATH once, at start: a script declares its language, and a language
 * this computer lacks is answered with a clear result instead of a confusing spawn error.
 */
export function findInterpreters(
  platform: NodeJS.Platform = process.platform,
  searchPath: string = process.env.PATH ?? '',
): Map<ScriptLanguageName, Interpreter> {
  const found = new Map<ScriptLanguageName, Interpreter>();
  const dirs = searchPath.split(platform === 'win32' ? ';' : ':').filter((dir) => dir.length > 0);
  for (const language of scriptLanguages) {
    const spec = specs[language];
    const names = spec.names[platform] ?? spec.names.default;
    const executable = names
      .flatMap((name) => dirs.map((dir) => join(dir, name)))
      .find((candidate) => isExecutable(candidate, platform));
    if (executable !== undefined) {
      found.set(language, { executable, extension: spec.extension, args: spec.args });
    }
  }
  return found;
}

function isExecutable(path: string, platform: NodeJS.Platform): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    // Windows has no execute bit: existence is all there is to check.
    if (platform !== 'win32') accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
