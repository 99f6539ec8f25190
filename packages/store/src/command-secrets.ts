import { createSecretCipher } from './secret-cipher.ts';

/**
 * What a secret task parameter is sealed to on its way to an agent (issue 12, item 1). Deployments seals each
 * secret value when it plans a session; sessions, Kafka and the gateway's replica channel carry only the
 * sealed form; the gateway opens it for the connection it writes the command to, taking tenant and agent from
 * that connection's credential, never from the command. A sealed value copied into another tenant's, agent's
 * or session's command, or under another parameter's name, fails to open.
 */
export interface CommandSecretBinding {
  tenantId: string;
  agentId: string;
  sessionId: string;
}

/** Seals and opens secret command parameters with `COMMAND_SECRETS_KEY`, which only deployments and the gateway hold. */
export interface CommandSecrets {
  seal(binding: CommandSecretBinding, parameter: string, value: string): string;
  /** Every value opened, by name; throws naming the first parameter that does not open under the binding. */
  open(binding: CommandSecretBinding, sealed: Readonly<Record<string, string>>): Record<string, string>;
}

/** A JSON array, so no id can run into the next (command and parameter names may hold `:`). */
function commandSecretContext(binding: CommandSecretBinding, parameter: string): string {
  return JSON.stringify([
    'command-parameter',
    binding.tenantId,
    binding.agentId,
    binding.sessionId,
    parameter,
  ]);
}

export function createCommandSecrets(key: Buffer): CommandSecrets {
  const cipher = createSecretCipher(key);
  return {
    seal: (binding, parameter, value) => cipher.seal(value, commandSecretContext(binding, parameter)),
    open: (binding, sealed) =>
      // fromEntries defines own properties, so even a parameter named __proto__ stays a plain entry.
      Object.fromEntries(
        Object.entries(sealed).map(([parameter, value]) => {
          try {
            return [parameter, cipher.open(value, commandSecretContext(binding, parameter))];
          } catch {
            throw new Error(`secret parameter "${parameter}" does not open for this command`);
          }
        }),
      ),
  };
}
