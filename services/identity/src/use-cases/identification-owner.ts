import { randomUUID } from 'node:crypto';
import {
  contractEvent,
  isEvent,
  PartitionNotOwnedError,
  type Bus,
  type ContractEvent,
  type ReceivedEvent,
} from '@converge/bus';
import {
  computerAgentPresenceChanged,
  computerChangeRequested,
  computerIdentificationRequested,
  computerManualDecisionRequested,
  findContract,
} from '@converge/contracts';
import { PartitionFencedError } from '@converge/errors';
import type { OwnerReplies } from '@converge/runtime';
import { acquireFence, type FenceDocument, type PartitionFence } from '@converge/store';
import type { Logger } from '@converge/telemetry';
import type { IdentificationPolicy } from '../domain/identification.ts';
import type { AgentPresenceRepository } from '../data-access/agent-presence.repository.ts';
import { lookupIds, type AgentRoute, type MachineLookup } from '../data-access/computer-lookup.ts';
import type { BatchRecord, ComputerRepository, StoredDocument } from '../data-access/computer.repository.ts';
import { ownerKeyOf, type ComputerDocument } from '../data-access/computer.schema.ts';
import type { DirectoryRepository } from '../data-access/directory.repository.ts';
import type { IdentificationFailureRepository } from '../data-access/identification-failure.repository.ts';
import type {
  PendingDecisionDocument,
  PendingDecisionRepository,
} from '../data-access/pending-decision.repository.ts';
import { documentOf, eventsOf, outboxOf } from './computer-document.ts';
import {
  IdentificationBatch,
  type BatchView,
  type IdentificationInput,
  type StagedComputer,
} from './identification-batch.ts';

export interface IdentificationOwnerDeps {
  computers: ComputerRepository;
  presence: AgentPresenceRepository;
  directory: DirectoryRepository;
  pending: PendingDecisionRepository;
  failures: IdentificationFailureRepository;
  bus: Bus;
  /** Answers the requests among the inputs (the owner only answers; request handlers wait). */
  replies: Pick<OwnerReplies, 'answer'>;
  logger: Logger;
  policy: IdentificationPolicy;
  staleAfterDays: number;
  clock: () => Date;
  /** The owner group: the name of its partitions' fences. */
  groupId: string;
  /** Computers a process holds at most; the least recently used beyond it are read again when needed. */
  heldComputers: number;
}

/** A partition this process owns, and what it holds of it. */
interface OwnedPartition {
  partition: number;
  fence: PartitionFence;
  /** The last batch written, and the last one whose events were sent. */
  seq: number;
  sentSeq: number;
  /** A batch failed after memory or store moved on: start again from the store before the next one. */
  stale: boolean;
  /** Computers owned here, least recently used first. */
  computers: Map<string, ComputerDocument>;
  /** Their machine lookups. */
  machines: Map<string, MachineLookup>;
  /** The held computer each of their agents is attached to. */
  agents: Map<string, string>;
  /** Held computers by machine key. */
  byMachine: Map<string, Set<string>>;
}

/** What a batch reads from the store besides what is held. */
interface BatchLoad {
  docs: Map<string, StoredDocument>;
  /** The pending decisions of the inputs' agents. */
  pending: Map<string, PendingDecisionDocument>;
  /** Which of the inputs' agents have a failed identification recorded. */
  failed: Set<string>;
  onboardingDisabled: Set<string>;
}

const isComputer = (doc: StoredDocument): doc is ComputerDocument => 'identityKey' in doc;

/** The record of a partition's last batch, beside its fence. */
function batchRecordId(groupId: string, partition: number): string {
  return `batch:${groupId}:${partition}`;
}

/** The guard of a partition's batch `seq`: inserted before the batch's new documents (see `insertBatch`). */
function batchGuardId(groupId: string, partition: number, seq: number): string {
  return `${batchRecordId(groupId, partition)}#${seq}`;
}

/** Guards are removed this many batches after theirs, a hundred at a time. */
const guardsKept = 100;

/** Sends an input on to the owner of another key, as it came. */
function forwarded(event: ReceivedEvent, key: string): ContractEvent {
  const contract = findContract(event.type);
  if (contract === undefined) throw new Error(`no contract for ${event.type}`);
  return contractEvent(contract, {
    subject: key,
    data: event.data,
    ...(event.tenantId === undefined ? {} : { tenantId: event.tenantId }),
  });
}

/** The owner's input of a received event; null for an event type that is none. */
export function inputOf(event: ReceivedEvent): IdentificationInput | null {
  if (isEvent(event, computerIdentificationRequested)) {
    const { facts, retry, reply } = event.data;
    return { type: 'identify', event, facts, retry, reply };
  }
  if (isEvent(event, computerAgentPresenceChanged)) {
    const { agentId, online, at } = event.data;
    return { type: 'presence', event, agentId, online, at: new Date(at) };
  }
  if (isEvent(event, computerChangeRequested)) return { type: 'change', event, request: event.data };
  if (isEvent(event, computerManualDecisionRequested))
    return { type: 'decision', event, request: event.data };
  return null;
}

/** Whether the computer's document changed in anything a reader sees, besides its version and time. */
function derivedChanged(before: ComputerDocument, after: Omit<ComputerDocument, 'outbox' | 'outboxBatch'>) {
  return (
    before.online !== after.online ||
    before.onlineAgentIds.join() !== after.onlineAgentIds.join() ||
    before.primaryPersonId !== after.primaryPersonId ||
    before.personIds.join() !== after.personIds.join()
  );
}

/**
 * The owner of the computers of the partitions this replica is given (docs/architecture.md §9): it holds them in
 * memory, decides each batch of inputs with the pure domain (`IdentificationBatch`), stores what the batch changed
 * in one fenced bulk write (new documents in one insert beside it), sends its events and forwards in one Kafka
 * request, and answers the requests among the inputs.
 */
export class IdentificationOwner {
  private readonly deps: IdentificationOwnerDeps;
  private readonly partitions = new Map<number, OwnedPartition>();

  constructor(deps: IdentificationOwnerDeps) {
    this.deps = deps;
  }

  readonly takeOver = async (partition: number): Promise<void> => {
    const held = this.partitions.get(partition);
    const fence = await acquireFence(
      this.deps.computers.collection,
      this.deps.groupId,
      partition,
      held?.fence,
    );
    if (held !== undefined && fence.kept && !held.stale) return;
    this.partitions.set(partition, await this.resume(partition, fence));
  };

  readonly release = (partition: number): void => {
    this.partitions.delete(partition);
  };

  /** Decides, stores and sends one batch of the partition's inputs; resolves with each input's outcome. */
  readonly handleBatch = async (partition: number, events: ReceivedEvent[]) => {
    let part = this.partitions.get(partition);
    if (part === undefined) throw new PartitionNotOwnedError(partition);
    if (part.stale) {
      part = await this.resume(partition, await this.stillHeld(part));
      this.partitions.set(partition, part);
    }
    const inputs = events.flatMap((event) => inputOf(event) ?? []);
    try {
      return await this.process(part, inputs);
    } catch (error) {
      // Memory and store may differ now (a write went through, a send did not): start again from the store.
      if (!(error instanceof PartitionFencedError)) part.stale = true;
      throw error;
    }
  };

  /** The fence this member holds, as stored now; `PartitionFencedError` when another member took it since. */
  private async stillHeld(part: OwnedPartition): Promise<PartitionFence> {
    const [stored] = (await this.deps.computers.byIds([part.fence.id])) as unknown as FenceDocument[];
    if (stored?.fence !== part.fence.token) throw new PartitionFencedError(part.partition);
    return { ...part.fence, sentSeq: stored.sentSeq, kept: true };
  }

  /**
   * Starts on a partition from the store. The events of its last batch are sent again, under their ids, when
   * that batch's send may not have completed (the previous owner died in between, or this one failed); consumers
   * drop repeats.
   */
  private async resume(partition: number, fence: PartitionFence): Promise<OwnedPartition> {
    const { computers, bus, logger, groupId } = this.deps;
    const recordId = batchRecordId(groupId, partition);
    let [record] = (await computers.byIds([recordId])) as BatchRecord[];
    if (record === undefined) {
      record = { _id: recordId, version: fence.sentSeq, computerIds: [] };
      // Created once, so that each batch only replaces it: the fenced write stays one transaction on FerretDB.
      await computers.create(record);
    }
    // The previous owner's last batch may have its fenced write stored and its new documents not yet: should it
    // still try to insert them, they are refused.
    await computers.guard([batchGuardId(groupId, partition, record.version)]);
    if (record.version > fence.sentSeq) {
      // The last batch's send may not have completed: its events go again, under their ids.
      const batch = `${fence.id}#${record.version}`;
      const written = (await computers.byIds(record.computerIds)).filter(isComputer);
      const events = written.filter((doc) => doc.outboxBatch === batch).flatMap(eventsOf);
      await bus.publishAll(events);
      logger.info(
        { partition, batch: record.version, events: events.length },
        'events of the last batch sent again',
      );
    }
    logger.info({ partition, token: fence.token }, 'computers of the partition taken over');
    return {
      partition,
      fence,
      seq: record.version,
      sentSeq: record.version,
      stale: false,
      computers: new Map(),
      machines: new Map(),
      agents: new Map(),
      byMachine: new Map(),
    };
  }

  private async process(part: OwnedPartition, inputs: readonly IdentificationInput[]) {
    const keys = new Set(inputs.map((input) => input.event.subject));
    const load = await this.load(part, inputs);
    const view = this.viewOf(part, load);
    const batch = new IdentificationBatch(view, {
      policy: this.deps.policy,
      now: this.deps.clock(),
      newComputerId: randomUUID,
    });
    batch.applyAll(inputs);
    this.deps.logger.debug(
      { partition: part.partition, inputs: inputs.length, computers: batch.computers.size },
      'batch decided',
    );
    await this.persist(part, batch, load, keys);
    return batch.outcomes;
  }

  /**
   * Reads what the batch needs and this process does not hold, by `_id` only: the machine lookups of the inputs'
   * keys, the routes of their agents, the computers those name (each round one `$in`), and beside them the
   * tenants' onboarding settings and the pending decisions the technicians answer.
   */
  private async load(part: OwnedPartition, inputs: readonly IdentificationInput[]): Promise<BatchLoad> {
    const docs = new Map<string, StoredDocument>();
    const tenants = new Set<string>();
    // Agents whose pending decision or failure the batch may record or resolve.
    const recordable = new Set<string>();
    const wanted = new Set<string>();
    const wantComputer = (id: string) => {
      if (!part.computers.has(id)) wanted.add(id);
    };
    const wantAgent = (agentId: string) => {
      if (!part.agents.has(agentId)) wanted.add(lookupIds.agent(agentId));
    };
    for (const input of inputs) {
      const key = input.event.subject;
      if (!part.machines.has(key)) wanted.add(lookupIds.machine(key));
      else for (const id of part.machines.get(key)?.computerIds ?? []) wantComputer(id);
      switch (input.type) {
        case 'identify':
          tenants.add(input.facts.tenantId);
          recordable.add(input.facts.agentId);
          wantAgent(input.facts.agentId);
          break;
        case 'presence':
          wantAgent(input.agentId);
          break;
        case 'change':
          wantComputer(input.request.computerId);
          break;
        case 'decision':
          tenants.add(input.request.tenantId);
          recordable.add(input.request.agentId);
          if (input.request.computerId !== null) wantComputer(input.request.computerId);
          break;
      }
    }
    // Mostly absent, which costs the store little to say: the batch deletes only those that are there.
    const [pending, failed, onboardingDisabled] = await Promise.all([
      this.deps.pending.byAgents([...recordable]),
      this.deps.failures.agentsAmong([...recordable]),
      this.deps.directory.onboardingDisabledAmong([...tenants]),
    ]);
    for (const doc of pending) for (const candidate of doc.candidates) wantComputer(candidate.computerId);
    const restoring = new Set(
      inputs.flatMap((input) =>
        input.type === 'change' && input.request.change.kind === 'restore' ? [input.request.computerId] : [],
      ),
    );
    for (const id of restoring) {
      for (const agent of part.computers.get(id)?.agents ?? []) wanted.add(lookupIds.agent(agent.agentId));
    }
    // Lookups name computers, a restored computer's agents name the computers they may have moved to.
    for (let round = 0; wanted.size > 0 && round < 4; round++) {
      const found = await this.deps.computers.byIds([...wanted].filter((id) => !docs.has(id)));
      wanted.clear();
      for (const doc of found) docs.set(doc._id, doc);
      for (const doc of found) {
        if ('computerIds' in doc) doc.computerIds.forEach(wantComputer);
        else if ('ownerKey' in doc && doc.computerId !== null) wantComputer(doc.computerId);
        else if (isComputer(doc) && restoring.has(doc._id)) {
          for (const agent of doc.agents) wanted.add(lookupIds.agent(agent.agentId));
        }
      }
      for (const id of [...wanted]) if (docs.has(id)) wanted.delete(id);
    }
    return { docs, pending: new Map(pending.map((doc) => [doc._id, doc])), failed, onboardingDisabled };
  }

  private viewOf(part: OwnedPartition, load: BatchLoad): BatchView {
    const computer = (id: string) => {
      const held = part.computers.get(id);
      if (held !== undefined) return held;
      const doc = load.docs.get(id);
      return doc !== undefined && isComputer(doc) ? doc : undefined;
    };
    return {
      computer,
      machine: (key) =>
        part.machines.get(key) ?? (load.docs.get(lookupIds.machine(key)) as MachineLookup | undefined),
      heldOfMachine: (key) => [...(part.byMachine.get(key) ?? [])],
      heldComputerOf: (agentId) => part.agents.get(agentId),
      route: (agentId) => load.docs.get(lookupIds.agent(agentId)) as AgentRoute | undefined,
      pending: (agentId) => load.pending.get(agentId),
      onboardingEnabled: (tenantId) => !load.onboardingDisabled.has(tenantId),
    };
  }

  /**
   * Stores what the batch staged: changed documents in one fenced bulk write (new agent routes of known computers
   * in it too, as claims: a route another owner wrote first refuses the whole write), then new computers, their
   * lookups and routes in one insert; sends the events of what was stored with the forwards in one request; then
   * records pending decisions and failures and answers the requests.
   */
  private async persist(
    part: OwnedPartition,
    batch: IdentificationBatch,
    load: BatchLoad,
    keys: ReadonlySet<string>,
  ): Promise<void> {
    const { computers, bus, replies } = this.deps;
    const now = this.deps.clock();
    const seq = part.seq + 1;
    const outboxBatch = `${part.fence.id}#${seq}`;
    const route = (agentId: string) => load.docs.get(lookupIds.agent(agentId)) as AgentRoute | undefined;

    // Routes of held computers' agents were not read: their versions are needed to write them.
    const unknownRoutes = [...batch.routes.keys()].map(lookupIds.agent).filter((id) => !load.docs.has(id));
    const staged = [...batch.computers.values()];
    const connected = staged
      .filter((entry) => entry.presence)
      .flatMap((entry) => entry.state.agents.map((a) => a.agentId));
    const [routesRead, online, people] = await Promise.all([
      computers.byIds(unknownRoutes),
      this.deps.presence.onlineAmong(connected),
      this.deps.directory.peopleByUpn(
        staged.flatMap(({ state }) =>
          state.affinity.recentUpns.map((upn) => ({ tenantId: state.tenantId, upn })),
        ),
      ),
    ]);
    for (const doc of routesRead) load.docs.set(doc._id, doc);

    const fenced: { doc: StoredDocument; previousVersion: number }[] = [];
    const written: ComputerDocument[] = [];
    for (const entry of staged) {
      const doc = this.documentOf(entry, online, people, now);
      if (doc === null) continue;
      const outbox =
        entry.changed || (entry.base !== null && derivedChanged(entry.base, doc))
          ? outboxOf(doc, entry.base?.onboardingStatus ?? null, entry.identified, now)
          : '[]';
      const stored: ComputerDocument = { ...doc, outbox, outboxBatch };
      written.push(stored);
      if (entry.base !== null) fenced.push({ doc: stored, previousVersion: entry.base.version });
    }
    // New documents go in one insert after the fenced write, each new computer after its new lookup and
    // routes: a computer the store refuses leaves at most lookups that name it, which readers check.
    const groups = new Map<string, StoredDocument[]>(
      written.filter((doc) => batch.computers.get(doc._id)?.base === null).map((doc) => [doc._id, []]),
    );
    const alone: StoredDocument[] = [];
    for (const [key, computerIds] of batch.machines) {
      const lookup =
        part.machines.get(key) ?? (load.docs.get(lookupIds.machine(key)) as MachineLookup | undefined);
      const version = lookup?.version ?? 0;
      const doc: MachineLookup = { _id: lookupIds.machine(key), version: version + 1, computerIds };
      if (version > 0) fenced.push({ doc, previousVersion: version });
      else (groups.get(computerIds.find((id) => groups.has(id)) ?? '') ?? alone).push(doc);
    }
    for (const [agentId, target] of batch.routes) {
      const version = route(agentId)?.version ?? 0;
      const doc: AgentRoute = {
        _id: lookupIds.agent(agentId),
        version: version + 1,
        computerId: target?.computerId ?? null,
        ownerKey: target?.ownerKey ?? null,
      };
      const group = version === 0 && target !== null ? groups.get(target.computerId) : undefined;
      // A route of an agent a known computer gains is a claim in the fenced write: if another owner attached the
      // agent first, the whole write is refused, and the batch is decided again from the store.
      if (group !== undefined) group.push(doc);
      else if (version > 0 || target !== null) fenced.push({ doc, previousVersion: version });
    }
    const byId = new Map(written.map((doc) => [doc._id, doc]));
    const inserted = [
      ...alone,
      ...[...groups].flatMap(([computerId, docs]): StoredDocument[] => {
        const computer = byId.get(computerId);
        return computer === undefined ? docs : [...docs, computer];
      }),
    ];

    const notCreated = new Set<string>();
    const holders: ComputerDocument[] = [];
    if (fenced.length > 0 || inserted.length > 0) {
      const record: BatchRecord = {
        _id: batchRecordId(this.deps.groupId, part.partition),
        version: seq,
        computerIds: written.map((doc) => doc._id),
      };
      await computers.writeBatch(
        part.fence,
        [...fenced, { doc: record, previousVersion: part.seq }],
        part.sentSeq,
      );
      part.seq = seq;
      const guard = batchGuardId(this.deps.groupId, part.partition, seq);
      const outcome = await computers.insertBatch(guard, inserted);
      if (outcome.outcome === 'fenced') throw new PartitionFencedError(part.partition);
      if (outcome.outcome === 'refused') {
        const refused = await this.refused(inserted, outcome.index, outcome.code, batch);
        for (const id of refused.notCreated) notCreated.add(id);
        holders.push(...refused.holders);
        // A lookup of no new computer that was not inserted: the next batch reads the partition again.
        if (inserted.slice(outcome.index).some((doc) => alone.includes(doc))) part.stale = true;
      }
    }

    const stored = written.filter((doc) => !notCreated.has(doc._id));
    const outgoing = stored.flatMap(eventsOf);
    for (const { event, key } of batch.forwards) outgoing.push(forwarded(event, key));
    for (const holder of holders) load.docs.set(holder._id, holder);
    this.remember(part, batch, load.docs, keys, stored);
    const oldGuards =
      seq % guardsKept === 0
        ? Array.from({ length: guardsKept }, (_, index) =>
            batchGuardId(this.deps.groupId, part.partition, seq - 2 * guardsKept + index),
          )
        : [];
    await Promise.all([
      this.deps.pending.apply([...batch.pending.values()], now, new Set(load.pending.keys())),
      this.deps.failures.apply([...batch.failures.values()], now, load.failed),
      oldGuards.length === 0 ? undefined : computers.removeAll(oldGuards),
    ]);
    await bus.publishAll(outgoing);
    part.sentSeq = part.seq;
    await replies.answer(batch.replies);
  }

  /** The document a staged computer is written as; null when a connection or affinity change changed nothing. */
  private documentOf(
    entry: StagedComputer,
    online: ReadonlySet<string>,
    people: Awaited<ReturnType<DirectoryRepository['peopleByUpn']>>,
    now: Date,
  ) {
    const { state, base } = entry;
    const onlineAgentIds = entry.presence
      ? state.agents.map((agent) => agent.agentId).filter((agentId) => online.has(agentId))
      : state.onlineAgentIds;
    const doc = documentOf(
      { ...state, onlineAgentIds, version: (base?.version ?? 0) + 1 },
      { people, now, staleAfterDays: this.deps.staleAfterDays },
    );
    if (!entry.changed && !entry.handOver && base !== null && !derivedChanged(base, doc)) return null;
    return doc;
  }

  /**
   * The batch's new computers the store did not create: from the refused document on (the insert is ordered), each
   * goes back to be decided again, by the owner of its own key; one whose identity key was taken goes to the
   * holder's owner ("a create that collides ends at the holder"), and the holder is held from now on when it is
   * owned here. The holder is a computer this owner did not know: a crash left it out of its machine lookup.
   */
  private async refused(
    inserted: readonly StoredDocument[],
    index: number,
    code: number | undefined,
    batch: IdentificationBatch,
  ): Promise<{ notCreated: string[]; holders: ComputerDocument[] }> {
    const { computers, logger } = this.deps;
    const doc = inserted[index];
    if (doc === undefined || code !== 11000)
      throw new Error(`the store refused a new document (code ${code})`);
    const notCreated = inserted.slice(index).filter(isComputer);
    const holders = isComputer(doc) ? await computers.holdersOf([doc.identityKey]) : [];
    const holder = holders.find((other) => isComputer(doc) && other.identityKey === doc.identityKey);
    logger.warn(
      { refused: doc._id, holder: holder?._id, notCreated: notCreated.length },
      'the store refused a new document; its computers are decided again',
    );
    for (const computer of notCreated) {
      const input = batch.creators.get(computer._id);
      if (input === undefined) continue;
      this.redecide(
        batch,
        input,
        computer === doc && holder !== undefined ? ownerKeyOf(holder) : input.event.subject,
      );
    }
    return { notCreated: notCreated.map((computer) => computer._id), holders };
  }

  /** An input whose computer was not created goes to `key` instead; its requester waits for that answer. */
  private redecide(batch: IdentificationBatch, input: IdentificationInput, key: string): void {
    batch.forwards.push({ event: input.event, key });
    const requestId = (input.event.data as { reply?: { requestId: string } | null }).reply?.requestId;
    const index = batch.replies.findIndex((reply) => reply.requestId === requestId);
    if (index >= 0) batch.replies.splice(index, 1);
  }

  /** Updates what the partition holds after a batch was stored: what it read and wrote of its own keys. */
  private remember(
    part: OwnedPartition,
    batch: IdentificationBatch,
    read: ReadonlyMap<string, StoredDocument>,
    keys: ReadonlySet<string>,
    written: readonly ComputerDocument[],
  ): void {
    for (const doc of read.values()) if (isComputer(doc) && keys.has(ownerKeyOf(doc))) this.hold(part, doc);
    for (const doc of written) {
      if (keys.has(ownerKeyOf(doc))) this.hold(part, doc);
      else this.forget(part, doc._id);
    }
    for (const key of keys) {
      const staged = batch.machines.get(key);
      const lookup =
        part.machines.get(key) ?? (read.get(lookupIds.machine(key)) as MachineLookup | undefined);
      const version = lookup?.version ?? 0;
      part.machines.delete(key);
      part.machines.set(key, {
        _id: lookupIds.machine(key),
        version: staged === undefined ? version : version + 1,
        computerIds: staged ?? lookup?.computerIds ?? [],
      });
    }
    this.evict(part);
  }

  private hold(part: OwnedPartition, doc: ComputerDocument): void {
    this.forget(part, doc._id);
    part.computers.set(doc._id, doc);
    if (doc.deletedAt === null) for (const agent of doc.agents) part.agents.set(agent.agentId, doc._id);
    const ofMachine = part.byMachine.get(doc.machineKey) ?? new Set();
    ofMachine.add(doc._id);
    part.byMachine.set(doc.machineKey, ofMachine);
  }

  private forget(part: OwnedPartition, id: string): void {
    const doc = part.computers.get(id);
    if (doc === undefined) return;
    part.computers.delete(id);
    for (const agent of doc.agents)
      if (part.agents.get(agent.agentId) === id) part.agents.delete(agent.agentId);
    part.byMachine.get(doc.machineKey)?.delete(id);
  }

  /** Forgets the least recently used beyond this process's share of `heldComputers`. */
  private evict(part: OwnedPartition): void {
    const share = Math.max(1, Math.floor(this.deps.heldComputers / Math.max(1, this.partitions.size)));
    for (const id of part.computers.keys()) {
      if (part.computers.size <= share) break;
      this.forget(part, id);
    }
    for (const key of part.machines.keys()) {
      if (part.machines.size <= share) break;
      part.machines.delete(key);
    }
  }
}
