import { contractEvent, isEvent, type Bus, type ContractEvent, type ReceivedEvent } from '@converge/bus';
import {
  agentConnected,
  agentDisconnected,
  agentFactsReported,
  computerAgentPresenceChanged,
  computerIdentificationRequested,
  type AgentFactsReported,
} from '@converge/contracts';
import type { AgentFacts } from '../domain/computer.ts';
import { identificationKey, type IdentificationPolicy } from '../domain/identification.ts';
import type { AgentPresenceRepository, PresenceChange } from '../data-access/agent-presence.repository.ts';
import { lookupIds, type AgentRoute } from '../data-access/computer-lookup.ts';
import type { ComputerRepository } from '../data-access/computer.repository.ts';

/** The domain's facts from the gateway's event; the tenant is the one the gateway authenticated the agent for. */
export function factsFrom(data: AgentFactsReported): AgentFacts {
  return {
    agentId: data.agentId,
    provider: data.provider,
    tenantId: data.tenantId,
    hardwareUuid: data.hardwareUuid,
    serialNumber: data.serialNumber,
    manufacturer: data.manufacturer,
    osInstallId: data.osInstallId,
    hostname: data.hostname,
    os: data.os,
    osVersion: data.osVersion,
    deviceType: data.deviceType,
    loggedOnUpns: data.loggedOnUpns,
    version: data.version,
    reportedAt: data.reportedAt,
  };
}

/** Where an agent's facts are decided: its computer's owner when it is attached, else the report's own key. */
export function identificationKeyOf(
  facts: AgentFacts,
  route: AgentRoute | undefined,
  policy: IdentificationPolicy,
): string {
  return route?.ownerKey ?? identificationKey(facts, policy);
}

/** An agent event the router handles: a facts report, or a connection change of the agent's tenant. */
type AgentEvent = { facts: AgentFacts } | { tenantId: string; change: PresenceChange };

export interface AgentEventRoutingDeps {
  computers: ComputerRepository;
  presence: AgentPresenceRepository;
  bus: Bus;
  policy: IdentificationPolicy;
  /** Agents whose last report's key each process remembers at most (for their connection changes). */
  rememberedAgents: number;
}

/**
 * Re-keys the gateway's agent events (keyed by agent id) by identity key, onto the owners' topic
 * (docs/architecture.md §9): facts go to the owner of the agent's computer, or of the key they are identified
 * under; connection changes are recorded per agent here, and go to the owner of the agent's computer when it
 * has one. One batch of a partition at a time: one read of the agents' routes, one write of their connections,
 * one send.
 */
export class AgentEventRouting {
  private readonly deps: AgentEventRoutingDeps;
  /**
   * The key each agent's last report went to, per partition of the agent events: an agent whose first report is
   * still being decided has no route yet, and its connection changes must reach that report's owner after it.
   */
  private readonly lastKeys = new Map<number, Map<string, string>>();

  constructor(deps: AgentEventRoutingDeps) {
    this.deps = deps;
  }

  readonly release = (partition: number): void => {
    this.lastKeys.delete(partition);
  };

  readonly route = async (partition: number, events: readonly ReceivedEvent[]): Promise<void> => {
    const { computers, presence, bus, policy } = this.deps;
    const lastKeys = this.lastKeys.get(partition) ?? new Map<string, string>();
    this.lastKeys.set(partition, lastKeys);
    const received = events.flatMap((event): AgentEvent[] => {
      if (isEvent(event, agentFactsReported)) return [{ facts: factsFrom(event.data) }];
      if (isEvent(event, agentConnected)) {
        const { agentId, tenantId, epoch, connectedAt } = event.data;
        return [{ tenantId, change: { agentId, epoch, online: true, at: new Date(connectedAt) } }];
      }
      if (isEvent(event, agentDisconnected)) {
        const { agentId, tenantId, epoch, disconnectedAt } = event.data;
        return [{ tenantId, change: { agentId, epoch, online: false, at: new Date(disconnectedAt) } }];
      }
      return [];
    });
    const agentIds = new Set(
      received.map((event) => ('facts' in event ? event.facts : event.change).agentId),
    );
    const routes = new Map(
      ((await computers.byIds([...agentIds].map(lookupIds.agent))) as AgentRoute[]).map((route) => [
        route._id,
        route,
      ]),
    );
    const routeOf = (agentId: string) => {
      const route = routes.get(lookupIds.agent(agentId));
      return route?.computerId === null ? undefined : route;
    };
    // Recorded before any is sent on: the owner that attaches the agent reads them.
    await presence.record(received.flatMap((event) => ('change' in event ? [event.change] : [])));
    const outgoing: ContractEvent[] = [];
    for (const event of received) {
      if ('facts' in event) {
        const { facts } = event;
        const key = identificationKeyOf(facts, routeOf(facts.agentId), policy);
        this.remember(lastKeys, facts.agentId, key);
        outgoing.push(
          contractEvent(computerIdentificationRequested, {
            subject: key,
            tenantId: facts.tenantId,
            data: { facts: { ...facts, loggedOnUpns: [...facts.loggedOnUpns] }, retry: false, reply: null },
          }),
        );
        continue;
      }
      const { tenantId, change } = event;
      const key = routeOf(change.agentId)?.ownerKey ?? lastKeys.get(change.agentId);
      if (key === undefined) continue;
      outgoing.push(
        contractEvent(computerAgentPresenceChanged, {
          subject: key,
          tenantId,
          data: { ...change, tenantId, at: change.at.toISOString() },
        }),
      );
    }
    await bus.publishAll(outgoing);
  };

  /** Remembers an agent's key, forgetting the oldest beyond this process's share. */
  private remember(lastKeys: Map<string, string>, agentId: string, key: string): void {
    lastKeys.delete(agentId);
    lastKeys.set(agentId, key);
    const share = Math.max(1, Math.floor(this.deps.rememberedAgents / Math.max(1, this.lastKeys.size)));
    for (const oldest of lastKeys.keys()) {
      if (lastKeys.size <= share) break;
      lastKeys.delete(oldest);
    }
  }
}
