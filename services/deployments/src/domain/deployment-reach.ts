import { dropReason, winnerAmong } from './deployment-resolution.ts';
import type { Estate } from './estate.ts';
import { itemKey, type Computer, type ResolveOptions } from './types.ts';

/**
 * The computers, among those given (a page of them, in the caller's order), on which the deployment is the
 * winning one for its maintenance item. Each computer is first checked against the deployment alone (target,
 * device filter, exclusions), and only the computers it reaches are ranked, against the other deployments
 * of the same maintenance item only — no full resolution and no prerequisite expansion.
 */
export function computersWhereDeploymentWins(
  estate: Estate,
  deploymentId: string,
  computers: Iterable<Computer>,
  options: ResolveOptions,
): string[] {
  const deployment = estate.deployments.get(deploymentId);
  if (!deployment) return [];
  const rivals = estate.deploymentsOfItem.get(itemKey(deployment.maintenanceItem)) ?? [deployment];
  const { catalog, directory } = estate;
  const winningOn: string[] = [];
  for (const computer of computers) {
    if (dropReason(deployment, computer, catalog, directory, options) !== null) continue;
    if (winnerAmong(rivals, computer, catalog, directory, options) === deployment)
      winningOn.push(computer.id);
  }
  return winningOn;
}
