import { randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import type { ReceivedEvent } from '@converge/bus';
import {
  computerAgentPresenceChanged,
  computerChangeRequested,
  computerIdentificationRequested,
} from '@converge/contracts';
import { computerOf, factsOf, policy, uuid } from '../domain/computer.fixtures.ts';
import type { AgentFacts, Computer } from '../domain/computer.ts';
import { lookupIds, type AgentRoute, type MachineLookup } from '../data-access/computer-lookup.ts';
import type { ComputerDocument } from '../data-access/computer.schema.ts';
import { documentOf, stateFrom } from './computer-document.ts';
import { IdentificationBatch, type BatchView, type IdentificationInput } from './identification-batch.ts';

const now = new Date('2026-11-23T09:00:00Z');
const otherUuid = '11111111-2222-3333-4444-555555555555';

/** A stored computer, owned under its machine key unless handed over. */
function stored(computer: Computer, handedOverTo: string | null = null): ComputerDocument {
  const state = { ...stateFrom(computer, null, now), handedOverTo };
  return {
    ...documentOf(state, { people: new Map(), now, staleAfterDays: 30 }),
    outbox: '[]',
    outboxBatch: null,
  };
}

/** What the owner would know: these computers, their machine lookups and their agents' routes. */
function viewOf(computers: readonly ComputerDocument[], routes: readonly AgentRoute[] = []): BatchView {
  const byId = new Map(computers.map((doc) => [doc._id, doc]));
  const machines = new Map<string, MachineLookup>();
  for (const doc of computers) {
    const lookup = machines.get(doc.machineKey) ?? {
      _id: lookupIds.machine(doc.machineKey),
      version: 1,
      computerIds: [],
    };
    machines.set(doc.machineKey, { ...lookup, computerIds: [...lookup.computerIds, doc._id] });
  }
  const byAgent = new Map(routes.map((route) => [route._id, route]));
  return {
    computer: (id) => byId.get(id),
    machine: (key) => machines.get(key),
    heldOfMachine: () => [],
    heldComputerOf: () => undefined,
    route: (agentId) => byAgent.get(lookupIds.agent(agentId)),
    pending: () => undefined,
    onboardingEnabled: () => true,
  };
}

function routeOf(agentId: string, doc: ComputerDocument): AgentRoute {
  return {
    _id: lookupIds.agent(agentId),
    version: 1,
    computerId: doc._id,
    ownerKey: doc.handedOverTo ?? doc.machineKey,
  };
}

function event(type: string, subject: string, data: unknown): ReceivedEvent {
  const received = {
    id: randomUUID(),
    source: 'identity',
    time: now.toISOString(),
    topic: 'inputs',
    partition: 0,
  };
  return { ...received, type, subject, data, offset: '0' };
}

function identify(facts: AgentFacts, key: string): IdentificationInput {
  const data = { facts, retry: false, reply: null };
  return {
    type: 'identify',
    event: event(computerIdentificationRequested.type, key, data),
    facts,
    retry: false,
    reply: null,
  };
}

function decide(view: BatchView, inputs: readonly IdentificationInput[]): IdentificationBatch {
  const batch = new IdentificationBatch(view, { policy, now, newComputerId: () => 'computer-new' });
  batch.applyAll(inputs);
  return batch;
}

describe('a batch of identifications', () => {
  it('creates a new machine under its key, names it in its machine lookup and routes its agent to it', () => {
    const batch = decide(viewOf([]), [identify(factsOf({ version: 1 }), uuid)]);
    expect(batch.outcomes).toEqual([{ kind: 'create-computer', computerId: 'computer-new' }]);
    expect(batch.computers.get('computer-new')).toMatchObject({ base: null, changed: true, presence: true });
    expect(batch.machines.get(uuid)).toEqual(['computer-new']);
    expect(batch.routes.get('agent-1')).toEqual({ computerId: 'computer-new', ownerKey: uuid });
    expect(batch.forwards).toEqual([]);
  });

  it('decides two agents of one new machine one after the other: one computer, both agents', () => {
    const first = factsOf({ version: 1 });
    const second = { ...first, agentId: 'automate-1', provider: 'cw-automate' };
    const batch = decide(viewOf([]), [identify(first, uuid), identify(second, uuid)]);
    expect(batch.outcomes.map((outcome) => outcome !== null && 'kind' in outcome && outcome.kind)).toEqual([
      'create-computer',
      'attach-agent',
    ]);
    expect(batch.computers.get('computer-new')?.state.agents.map((agent) => agent.agentId)).toEqual([
      'agent-1',
      'automate-1',
    ]);
  });

  it('sends a report of an attached agent on to the owner of its computer', () => {
    const computer = stored(computerOf({ id: 'computer-1' }));
    const report = identify(
      factsOf({ version: 2, hardwareUuid: null, serialNumber: 'OTHER' }),
      'serial:dell inc.:other',
    );
    // The owner read the computer the route names: it is another key's, so the report goes there.
    const batch = decide(viewOf([computer], [routeOf('agent-1', computer)]), [report]);
    expect(batch.forwards.map((forward) => forward.key)).toEqual([uuid]);
    expect(batch.computers.size).toBe(0);
  });

  it('sends a report of an agent attached nowhere on to the owner of its own key', () => {
    const batch = decide(viewOf([]), [identify(factsOf({ version: 1 }), 'somewhere-else')]);
    expect(batch.forwards.map((forward) => forward.key)).toEqual([uuid]);
    expect(batch.outcomes).toEqual([null]);
  });

  it('clears a route to a computer that no longer has the agent, and identifies the agent afresh', () => {
    const computer = stored(computerOf({ id: 'computer-1' }, factsOf({ agentId: 'agent-other' })));
    const batch = decide(viewOf([computer], [routeOf('agent-1', computer)]), [
      identify(factsOf({ version: 1, provider: 'cw-automate' }), uuid),
    ]);
    expect(batch.outcomes).toEqual([{ kind: 'attach-agent', computerId: 'computer-1' }]);
    expect(batch.routes.get('agent-1')).toEqual({ computerId: 'computer-1', ownerKey: uuid });
  });
});

describe('a computer whose hardware UUID changes', () => {
  const computer = stored(computerOf({ id: 'computer-1' }));
  const newUuid = factsOf({ version: 2, hardwareUuid: otherUuid.toUpperCase() });

  it('is handed over to the owner of the new UUID, with the report, and nothing is published', () => {
    const batch = decide(viewOf([computer], [routeOf('agent-1', computer)]), [identify(newUuid, uuid)]);
    expect(batch.forwards.map((forward) => forward.key)).toEqual([otherUuid]);
    expect(batch.computers.get('computer-1')).toMatchObject({
      state: { handedOverTo: otherUuid, hardwareUuid: uuid, version: 1 },
      changed: false,
      handOver: true,
    });
  });

  it('is kept by that owner when no computer holds the UUID, its agents routed there', () => {
    const handed = stored(computerOf({ id: 'computer-1' }), otherUuid);
    const batch = decide(viewOf([handed], [routeOf('agent-1', handed)]), [identify(newUuid, otherUuid)]);
    expect(batch.outcomes).toEqual([{ kind: 'refresh-facts', computerId: 'computer-1' }]);
    expect(batch.computers.get('computer-1')?.state).toMatchObject({
      hardwareUuid: otherUuid,
      handedOverTo: null,
    });
    expect(batch.machines.get(otherUuid)).toEqual(['computer-1']);
    expect(batch.routes.get('agent-1')).toEqual({ computerId: 'computer-1', ownerKey: otherUuid });
    expect(batch.computers.get('computer-1')?.state.history.map((entry) => entry.event)).toContain(
      'hardware-uuid-changed',
    );
  });

  it('is given back when another computer holds the UUID, and the report fails', () => {
    const handed = stored(computerOf({ id: 'computer-1' }), otherUuid);
    const holder = stored(
      computerOf({ id: 'computer-2', hardwareUuid: otherUuid }, factsOf({ agentId: 'agent-2' })),
    );
    const batch = decide(viewOf([handed, holder], [routeOf('agent-1', handed)]), [
      identify(newUuid, otherUuid),
    ]);
    expect(batch.outcomes).toEqual([
      {
        kind: 'failed',
        failure: { reason: 'hardware-uuid-taken', computerId: 'computer-1', takenBy: 'computer-2' },
      },
    ]);
    expect(batch.computers.get('computer-1')).toMatchObject({
      state: { handedOverTo: null, hardwareUuid: uuid },
      handOver: true,
      changed: false,
    });
    expect(batch.failures.get('agent-1')).toMatchObject({ kind: 'record' });
  });
});

describe('other inputs', () => {
  it('send a technician change of a computer owned under another key to that key', () => {
    const computer = stored(computerOf({ id: 'computer-1' }));
    const data = {
      computerId: 'computer-1',
      tenantId: 'tenant-1',
      change: { kind: 'delete' as const },
      requestedAt: now.toISOString(),
      reply: null,
    };
    const batch = decide(viewOf([computer]), [
      { type: 'change', event: event(computerChangeRequested.type, otherUuid, data), request: data },
    ]);
    expect(batch.forwards.map((forward) => forward.key)).toEqual([uuid]);
  });

  it('mark the computer of a connecting agent for its online state, and ignore an agent attached nowhere', () => {
    const computer = stored(computerOf({ id: 'computer-1' }));
    const presence = (agentId: string): IdentificationInput => ({
      type: 'presence',
      event: event(computerAgentPresenceChanged.type, uuid, {}),
      agentId,
      online: true,
      at: now,
    });
    const batch = decide(viewOf([computer], [routeOf('agent-1', computer)]), [
      presence('agent-1'),
      presence('agent-9'),
    ]);
    expect([...batch.computers.keys()]).toEqual(['computer-1']);
    expect(batch.computers.get('computer-1')).toMatchObject({ presence: true, changed: false });
  });
});
