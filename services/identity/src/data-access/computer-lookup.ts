/*
 * Lookups kept beside the computers, in their collection: the owner of a key writes them in the same fenced bulk
 * write as the computers (docs/architecture.md §9) and reads them together with the computers in one request by
 * `_id`. Both are hints that the computers confirm: a reader checks every computer a lookup names against what it
 * looked for, so a lookup left behind by a failed write misleads no one.
 */

/** The live computers of one machine key: usually one, several for clones kept apart. Written by its owner. */
export interface MachineLookup {
  _id: string;
  version: number;
  computerIds: string[];
}

/** The computer an agent is attached to and the key of its owner: where the agent's reports and connections go. */
export interface AgentRoute {
  _id: string;
  version: number;
  /** Null once the agent left its computer (deleted, or replaced by a reinstalled agent). */
  computerId: string | null;
  ownerKey: string | null;
}

/** Lookup ids, prefixed so that they never meet a computer id (a uuid) or an owner's fence or batch record. */
export const lookupIds = {
  machine: (key: string) => `machine:${key}`,
  agent: (agentId: string) => `agent:${agentId}`,
};
