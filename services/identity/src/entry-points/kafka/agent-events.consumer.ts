import {
  agentConnected,
  agentDisconnected,
  agentFactsReported,
  type AgentFactsReported,
} from '@converge/contracts';
import { isEvent, type Bus, type ReceivedEvent, type Subscription } from '@converge/bus';
import type { AgentFacts } from '../../domain/computer.ts';
import { recordAgentPresence } from '../../use-cases/agent-presence.ts';
import { identifyFromFacts } from '../../use-cases/identify-computer.ts';
import type { IdentityDeps } from '../../use-cases/identity-deps.ts';

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

/**
 * Agent facts identify computers; connections and disconnections keep their online state. Redelivery is
 * harmless: facts carry the agent's report version and presence the connection epoch.
 */
export function handleAgentEvent(deps: IdentityDeps) {
  return async (event: ReceivedEvent): Promise<void> => {
    if (isEvent(event, agentFactsReported)) {
      await identifyFromFacts(deps, factsFrom(event.data));
    } else if (isEvent(event, agentConnected)) {
      const { agentId, epoch, connectedAt } = event.data;
      await recordAgentPresence(deps, { agentId, epoch, online: true, at: new Date(connectedAt) });
    } else if (isEvent(event, agentDisconnected)) {
      const { agentId, epoch, disconnectedAt } = event.data;
      await recordAgentPresence(deps, { agentId, epoch, online: false, at: new Date(disconnectedAt) });
    }
  };
}

export function consumeAgentEvents(
  bus: Bus,
  deps: IdentityDeps,
  opts: { groupId: string; topic: string; concurrency: number },
): Promise<Subscription> {
  return bus.subscribe({
    groupId: opts.groupId,
    topics: [opts.topic],
    fromBeginning: true,
    partitionsConsumedConcurrently: opts.concurrency,
    handle: handleAgentEvent(deps),
  });
}
