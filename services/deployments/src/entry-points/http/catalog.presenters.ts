import type { OutboxFields } from '@converge/store';
import type { MaintenanceTaskDocument } from '../../data-access/catalog.schemas.ts';
import type { DeploymentDocument } from '../../data-access/deployment.repository.ts';

type Stored = { _id: string } & Partial<OutboxFields>;

/** The API form of a stored aggregate: `id` for `_id`, without the outbox machinery. */
export function present<T extends Stored>(doc: T) {
  const { _id, outbox: _outbox, outboxLeaseUntil: _until, outboxLeaseOwner: _owner, ...fields } = doc;
  return { id: _id, ...fields };
}

/** Secret defaults are write-only: the API says only whether one is set. */
export function presentMaintenanceTask(doc: MaintenanceTaskDocument) {
  const { parameters, ...task } = present(doc);
  return {
    ...task,
    parameters: parameters.map(({ sealedDefault, ...parameter }) =>
      parameter.type === 'secret' ? { ...parameter, hasSecretDefault: sealedDefault !== null } : parameter,
    ),
  };
}

/** Parameter values by name; secret values are write-only, so only their names are listed as set. */
export function presentDeployment(doc: DeploymentDocument) {
  const { parameterValues, ...deployment } = present(doc);
  const values: Record<string, unknown> = {};
  const secretParameters: string[] = [];
  for (const value of parameterValues) {
    if (value.sealed !== undefined) secretParameters.push(value.name);
    else values[value.name] = value.value;
  }
  return { ...deployment, parameterValues: values, secretParameters };
}
