import type { ReceivedEvent } from '@converge/bus';
import type { ComputerChangeRequested, ComputerManualDecisionRequested } from '@converge/contracts';
import { ConflictError, DomainError, NotFoundError } from '@converge/errors';
import { identityKey, type AgentFacts } from '../domain/computer.ts';
import {
  identificationKey,
  identifyComputer,
  type IdentificationFailure,
  type IdentificationPolicy,
} from '../domain/identification.ts';
import { applyManualDecision, type ManualDecisionOutcome } from '../domain/manual-decision.ts';
import { transitionOnboarding, type OnboardingCommand } from '../domain/onboarding-status.ts';
import type { AgentRoute, MachineLookup } from '../data-access/computer-lookup.ts';
import type { ComputerDocument, HistoryEntry } from '../data-access/computer.schema.ts';
import type { IdentificationFailureChange } from '../data-access/identification-failure.repository.ts';
import type {
  PendingDecisionChange,
  PendingDecisionDocument,
} from '../data-access/pending-decision.repository.ts';
import {
  domainComputer,
  machineKeyOf,
  stateFrom,
  stateOf,
  withHistory,
  type ComputerState,
  type Identified,
} from './computer-document.ts';

/*
 * One batch of an owner's inputs (docs/architecture.md §9), applied in memory: each facts report, connection
 * change, technician's request or session outcome is decided with the pure domain against the computers of its
 * key as this batch left them. Nothing here does I/O: the owner loads what the batch reads first, then stores
 * what it staged in one write, sends the events and forwards, and answers the replies; or throws it all away.
 */

/** Who waits for an input's outcome. */
export type OwnerReply = { requestId: string; replyTo: string } | null;

export type IdentificationInput =
  | { type: 'identify'; event: ReceivedEvent; facts: AgentFacts; retry: boolean; reply: OwnerReply }
  | { type: 'presence'; event: ReceivedEvent; agentId: string; online: boolean; at: Date }
  | { type: 'change'; event: ReceivedEvent; request: ComputerChangeRequested }
  | { type: 'decision'; event: ReceivedEvent; request: ComputerManualDecisionRequested };

export type IdentificationOutcome =
  | { kind: 'no-change' | 'refresh-facts' | 'attach-agent' | 'create-computer'; computerId: string }
  | { kind: 'needs-manual-decision' }
  | { kind: 'failed'; failure: IdentificationFailure };

/** A change a technician asked for, applied. */
export interface ChangeResult {
  computerId: string;
}

export interface DecisionResult {
  outcome: ManualDecisionOutcome['kind'];
  computerId: string;
  deletedComputerId: string | null;
}

/** A domain error, as it travels back to the request that caused it. */
export interface Problem {
  kind: 'validation' | 'not-found' | 'conflict';
  detail: string;
}

/** An owner's answer to a request: its result, or the problem that refused it. */
export type OwnerAnswer<T> = { result: T } | { problem: Problem };

/** What the owner knows when the batch starts: held in memory, or loaded for the batch. */
export interface BatchView {
  /** A computer; undefined when it does not exist. */
  computer(id: string): ComputerDocument | undefined;
  /** The machine lookup of a key; undefined when none is stored. */
  machine(key: string): MachineLookup | undefined;
  /** Held computers of a machine key, besides those its lookup names (found while repairing a lookup). */
  heldOfMachine(key: string): readonly string[];
  /** The held computer an agent is attached to, if any. */
  heldComputerOf(agentId: string): string | undefined;
  /** The agent's route as stored, for agents no held computer has; undefined when none is stored. */
  route(agentId: string): AgentRoute | undefined;
  pending(agentId: string): PendingDecisionDocument | undefined;
  onboardingEnabled(tenantId: string): boolean;
}

/** A computer this batch changed, or may have (connections and affinity: the owner compares what it derives). */
export interface StagedComputer {
  /** As stored before the batch; null for a computer the batch created. */
  base: ComputerDocument | null;
  state: ComputerState;
  identified: Identified[];
  /** The state changed for sure; false when only what the document derives may have. */
  changed: boolean;
  /** Which of its agents are connected must be read again. */
  presence: boolean;
  /** Handed over to, or given back by, another key's owner: a write of its own, with no events. */
  handOver: boolean;
}

export interface Forward {
  event: ReceivedEvent;
  key: string;
}

export interface BatchSettings {
  policy: IdentificationPolicy;
  now: Date;
  newComputerId: () => string;
}

function ownerKeyOfState(state: ComputerState): string {
  return state.handedOverTo ?? machineKeyOf(state);
}

function problemOf(error: unknown): Problem {
  if (!(error instanceof DomainError)) throw error;
  const kind =
    error instanceof NotFoundError ? 'not-found' : error instanceof ConflictError ? 'conflict' : 'validation';
  return { kind, detail: error.message };
}

const maintenanceSession = 'maintenance session';

/** A write that moves a computer between owners: nothing about the computer changes, so nothing is published. */
const handOver = { handOver: true, changed: false };

export class IdentificationBatch {
  /** Computers to write, by id. */
  readonly computers = new Map<string, StagedComputer>();
  /** Machine lookups to write: the computer ids of each key, as this batch leaves them. */
  readonly machines = new Map<string, string[]>();
  /** Agent routes to write: the computer each agent is attached to now (null: none), and its owner's key. */
  readonly routes = new Map<string, { computerId: string; ownerKey: string } | null>();
  readonly pending = new Map<string, PendingDecisionChange>();
  readonly failures = new Map<string, IdentificationFailureChange>();
  /** Inputs that belong to another key's owner, sent on after the batch is stored. */
  readonly forwards: Forward[] = [];
  /** Answers, sent once the batch is stored. */
  readonly replies: { replyTo: string; requestId: string; result: OwnerAnswer<unknown> }[] = [];
  /** Each input's outcome, in order (null for inputs forwarded or with nothing to tell). */
  readonly outcomes: (IdentificationOutcome | DecisionResult | ChangeResult | Problem | null)[] = [];
  /** The input each computer created by this batch came from: it goes to the holder if the store refuses it. */
  readonly creators = new Map<string, IdentificationInput>();

  private readonly view: BatchView;
  private readonly settings: BatchSettings;

  constructor(view: BatchView, settings: BatchSettings) {
    this.view = view;
    this.settings = settings;
  }

  applyAll(inputs: readonly IdentificationInput[]): void {
    for (const input of inputs) this.apply(input);
  }

  private apply(input: IdentificationInput): void {
    const key = input.event.subject;
    switch (input.type) {
      case 'identify':
        this.outcomes.push(this.identify(input, key));
        return;
      case 'presence':
        this.outcomes.push(null);
        this.presence(input, key);
        return;
      case 'change':
        this.outcomes.push(this.change(input, key));
        return;
      case 'decision':
        this.outcomes.push(this.decide(input, key));
        return;
    }
  }

  /** A computer as this batch has it now; undefined when there is none. */
  private stateNow(id: string): ComputerState | undefined {
    const staged = this.computers.get(id);
    if (staged !== undefined) return staged.state;
    const doc = this.view.computer(id);
    return doc === undefined ? undefined : stateOf(doc);
  }

  private machineIds(key: string): string[] {
    const staged = this.machines.get(key);
    if (staged !== undefined) return staged;
    const listed = this.view.machine(key)?.computerIds ?? [];
    return [...new Set([...listed, ...this.view.heldOfMachine(key)])];
  }

  /** The live computers of a machine key: what a report identified under the key can match. */
  private machineComputers(key: string): ComputerState[] {
    return this.machineIds(key).flatMap((id) => {
      const state = this.stateNow(id);
      // A lookup may name a computer that left the key, was deleted, or whose creation the store refused.
      return state !== undefined && state.deletedAt === null && machineKeyOf(state) === key ? [state] : [];
    });
  }

  /** The live computer the agent is attached to; a route to a computer that does not have it is cleared. */
  private computerOfAgent(agentId: string): ComputerState | null {
    const staged = this.routes.get(agentId);
    const id =
      staged !== undefined
        ? (staged?.computerId ?? null)
        : (this.view.heldComputerOf(agentId) ?? this.view.route(agentId)?.computerId ?? null);
    if (id === null) return null;
    const state = this.stateNow(id);
    if (state !== undefined && state.deletedAt === null && state.agents.some((a) => a.agentId === agentId)) {
      return state;
    }
    // Left behind by a write the store refused: the agent is attached nowhere, and its reports must not come here.
    if (staged === undefined && (this.view.route(agentId)?.computerId ?? null) !== null)
      this.routes.set(agentId, null);
    return null;
  }

  private forward(input: IdentificationInput, key: string): null {
    this.forwards.push({ event: input.event, key });
    return null;
  }

  private stage(
    base: ComputerDocument | null,
    state: ComputerState,
    change: Partial<Pick<StagedComputer, 'identified' | 'changed' | 'presence' | 'handOver'>> = {},
  ): void {
    const staged = this.computers.get(state._id);
    this.computers.set(state._id, {
      base: staged?.base ?? base,
      state,
      identified: [...(staged?.identified ?? []), ...(change.identified ?? [])],
      changed: (staged?.changed ?? false) || (change.changed ?? true),
      presence: (staged?.presence ?? false) || (change.presence ?? false),
      handOver: (staged?.handOver ?? false) || (change.handOver ?? false),
    });
    this.listInMachine(state);
  }

  /** Keeps the computer's machine lookup naming it while it is live, and only then. */
  private listInMachine(state: ComputerState): void {
    const key = machineKeyOf(state);
    const ids = this.machineIds(key);
    const listed = ids.includes(state._id);
    const live = state.deletedAt === null;
    if (live && !listed) this.machines.set(key, [...ids, state._id]);
    if (!live && listed)
      this.machines.set(
        key,
        ids.filter((id) => id !== state._id),
      );
  }

  private route(agentId: string, state: ComputerState | null): void {
    this.routes.set(
      agentId,
      state === null ? null : { computerId: state._id, ownerKey: ownerKeyOfState(state) },
    );
  }

  private resolveAgent(facts: AgentFacts, failure: IdentificationFailureChange | null = null): void {
    const resolve = { kind: 'resolve' as const, agentId: facts.agentId, factsVersion: facts.version };
    this.pending.set(facts.agentId, resolve);
    this.failures.set(facts.agentId, failure ?? resolve);
  }

  private reply(to: OwnerReply, result: OwnerAnswer<unknown>): void {
    if (to !== null) this.replies.push({ replyTo: to.replyTo, requestId: to.requestId, result });
  }

  /** A computer handed over to this key whose report did not keep it here goes back to its machine key. */
  private giveBack(state: ComputerState | null, key: string): void {
    if (state === null || state.handedOverTo !== key) return;
    const current = this.stateNow(state._id);
    if (current === undefined || current.handedOverTo !== key) return;
    this.stage(this.view.computer(state._id) ?? null, { ...current, handedOverTo: null }, handOver);
  }

  private identify(
    input: Extract<IdentificationInput, { type: 'identify' }>,
    key: string,
  ): IdentificationOutcome | null {
    const { facts } = input;
    const { policy, now } = this.settings;
    const own = this.computerOfAgent(facts.agentId);
    if (own !== null && ownerKeyOfState(own) !== key) return this.forward(input, ownerKeyOfState(own));
    if (own === null && identificationKey(facts, policy) !== key) {
      return this.forward(input, identificationKey(facts, policy));
    }
    const known = this.machineComputers(key).map(domainComputer);
    const decision = identifyComputer({
      facts,
      known: {
        ofAgent: own === null ? null : domainComputer(own),
        byHardwareUuid: known,
        bySerialNumber: known,
      },
      policy,
      onboardingEnabledForTenant: this.view.onboardingEnabled(facts.tenantId),
      newComputerId: this.settings.newComputerId(),
    });
    let outcome: IdentificationOutcome;
    switch (decision.kind) {
      case 'no-change':
        this.resolveAgent(facts);
        outcome = { kind: decision.kind, computerId: decision.computerId };
        break;
      case 'needs-manual-decision':
        this.pending.set(facts.agentId, { kind: 'record', request: decision.request });
        this.failures.set(facts.agentId, {
          kind: 'resolve',
          agentId: facts.agentId,
          factsVersion: facts.version,
        });
        outcome = { kind: decision.kind };
        break;
      case 'failed':
        this.resolveAgent(facts, { kind: 'record', facts, failure: decision.failure, retry: input.retry });
        outcome = { kind: decision.kind, failure: decision.failure };
        break;
      default: {
        const created = decision.kind === 'create-computer';
        const base = created ? null : (this.stateNow(decision.computer.id) ?? null);
        if (base !== null && ownerKeyOfState(base) !== key) return this.forward(input, ownerKeyOfState(base));
        const next = stateFrom(decision.computer, base, now);
        const nextKey = machineKeyOf(next);
        if (base !== null && nextKey !== key) {
          // A new hardware UUID (or serial number): only the owner of the new key knows whether another computer
          // holds it. The computer waits for that owner's decision there; its report goes along.
          this.stage(this.view.computer(base._id) ?? null, { ...base, handedOverTo: nextKey }, handOver);
          return this.forward(input, nextKey);
        }
        const agentId = facts.agentId;
        const history: Omit<HistoryEntry, 'at'>[] = [];
        const identified: Identified[] = [];
        if (decision.kind === 'create-computer') {
          history.push({ event: 'created', agentId, detail: null });
          identified.push({ agentId, matchedBy: 'new' });
          this.creators.set(decision.computer.id, input);
        } else if (decision.kind === 'attach-agent') {
          history.push({ event: 'agent-attached', agentId, detail: `matched by ${decision.matchedBy}` });
          identified.push({ agentId, matchedBy: decision.matchedBy });
        } else if (decision.hardwareUuidChanged) {
          history.push({ event: 'hardware-uuid-changed', agentId, detail: decision.computer.hardwareUuid });
        }
        if (decision.kind !== 'create-computer' && decision.wiped) {
          history.push({ event: 'wiped', agentId, detail: 'reported a different OS install id' });
        }
        const state = withHistory({ ...next, handedOverTo: null }, history, now);
        this.stage(this.view.computer(state._id) ?? null, state, {
          identified,
          presence: identified.length > 0,
        });
        if (own === null) this.route(agentId, state);
        // Kept under the key it was handed over to: every agent of it is routed here now.
        else if (base?.handedOverTo === key)
          for (const agent of state.agents) this.route(agent.agentId, state);
        this.resolveAgent(facts);
        outcome = { kind: decision.kind, computerId: decision.computer.id };
      }
    }
    this.giveBack(own, key);
    this.reply(input.reply, { result: outcome });
    return outcome;
  }

  private presence(input: Extract<IdentificationInput, { type: 'presence' }>, key: string): void {
    const own = this.computerOfAgent(input.agentId);
    // An agent attached nowhere: its connection is recorded per agent, read when a report attaches it.
    if (own === null) return;
    if (ownerKeyOfState(own) !== key) {
      this.forward(input, ownerKeyOfState(own));
      return;
    }
    // Last seen when the agent went away: staleness counts from there.
    const later = !input.online && input.at > own.lastSeenAt;
    this.stage(this.view.computer(own._id) ?? null, later ? { ...own, lastSeenAt: input.at } : own, {
      changed: later,
      presence: true,
    });
  }

  private change(
    input: Extract<IdentificationInput, { type: 'change' }>,
    key: string,
  ): ChangeResult | Problem | null {
    const { request } = input;
    const { change } = request;
    const state = this.stateNow(request.computerId);
    const requested = change.kind !== 'follow-onboarding-session' && change.kind !== 'refresh-affinity';
    if (state === undefined || (request.tenantId !== null && state.tenantId !== request.tenantId)) {
      if (!requested) return null;
      const problem: Problem = { kind: 'not-found', detail: 'computer not found' };
      this.reply(request.reply, { problem });
      return problem;
    }
    if (ownerKeyOfState(state) !== key) return this.forward(input, ownerKeyOfState(state));
    try {
      this.changeComputer(state, change);
    } catch (error) {
      const problem = problemOf(error);
      this.reply(request.reply, { problem });
      return problem;
    }
    this.reply(request.reply, { result: { computerId: state._id } });
    return { computerId: state._id };
  }

  private changeComputer(state: ComputerState, change: ComputerChangeRequested['change']): void {
    const { now } = this.settings;
    const base = this.view.computer(state._id) ?? null;
    const live = () => {
      if (state.deletedAt !== null) throw new ConflictError('the computer is deleted; restore it first');
    };
    switch (change.kind) {
      case 'edit': {
        const affinity = {
          ...state.affinity,
          ...(change.pinnedPrimaryPersonId === undefined
            ? {}
            : { pinnedPersonId: change.pinnedPrimaryPersonId }),
          ...(change.excludedFromAffinity === undefined ? {} : { excluded: change.excludedFromAffinity }),
        };
        this.stage(base, {
          ...state,
          ...(change.name === undefined ? {} : { name: change.name }),
          ...(change.tags === undefined ? {} : { tags: [...new Set(change.tags.map((tag) => tag.trim()))] }),
          ...(change.notes === undefined ? {} : { notes: change.notes }),
          ...(change.excludedFromMaintenance === undefined
            ? {}
            : { excludedFromMaintenance: change.excludedFromMaintenance }),
          affinity,
        });
        return;
      }
      case 'delete':
        live();
        this.remove(base, state, null);
        return;
      case 'restore':
        this.restore(base, state);
        return;
      case 'change-tenant':
        live();
        this.stage(
          base,
          withHistory(
            { ...state, tenantId: change.tenantId },
            [
              {
                event: 'tenant-changed',
                agentId: null,
                detail: `from ${state.tenantId} to ${change.tenantId}`,
              },
            ],
            now,
          ),
        );
        return;
      case 'onboarding':
        live();
        this.stage(
          base,
          withHistory(
            { ...state, onboardingStatus: transitionOnboarding(state.onboardingStatus, change.command) },
            [{ event: `onboarding-${change.command}`, agentId: null, detail: null }],
            now,
          ),
        );
        return;
      case 'follow-onboarding-session':
        this.followOnboardingSession(base, state, change.commands);
        return;
      case 'refresh-affinity':
        this.stage(base, state, { changed: false });
        return;
    }
  }

  /**
   * Follows the computer's onboarding session: it started, passed, or ended otherwise. A move the status does not
   * allow (a redelivered or late session event, a technician's skip in between) changes nothing.
   */
  private followOnboardingSession(
    base: ComputerDocument | null,
    state: ComputerState,
    commands: readonly Exclude<OnboardingCommand, 'reset' | 'skip'>[],
  ): void {
    let next = state;
    const history: Omit<HistoryEntry, 'at'>[] = [];
    for (const command of commands) {
      try {
        next = { ...next, onboardingStatus: transitionOnboarding(next.onboardingStatus, command) };
        history.push({ event: `onboarding-${command}`, agentId: null, detail: maintenanceSession });
      } catch (error) {
        problemOf(error);
      }
    }
    if (history.length > 0) this.stage(base, withHistory(next, history, this.settings.now));
  }

  /** Deletes a computer: its machine no longer knows it and its agents are attached nowhere. */
  private remove(base: ComputerDocument | null, state: ComputerState, byAgent: string | null): void {
    const detail = byAgent === null ? null : 'replaced by a manual decision';
    this.stage(
      base,
      withHistory(
        { ...state, deletedAt: this.settings.now },
        [{ event: 'deleted', agentId: byAgent, detail }],
        this.settings.now,
      ),
    );
    for (const agent of state.agents) this.route(agent.agentId, null);
  }

  /**
   * Restores a deleted computer, unless its machine has been identified afresh meanwhile: then another computer
   * holds its hardware identity or one of its agents, and restoring would make two computers of one machine.
   */
  private restore(base: ComputerDocument | null, state: ComputerState): void {
    if (state.deletedAt === null) throw new ConflictError('the computer is not deleted');
    const restored = { ...state, deletedAt: null };
    const identity = identityKey(domainComputer(restored));
    const holder = this.machineComputers(machineKeyOf(restored)).find(
      (other) => other._id !== state._id && identityKey(domainComputer(other)) === identity,
    );
    if (holder !== undefined)
      throw new ConflictError('another computer already holds this hardware identity');
    for (const agent of state.agents) {
      const other = this.computerOfAgent(agent.agentId);
      if (other !== null && other._id !== state._id) {
        throw new ConflictError(`agent ${agent.agentId} now belongs to computer ${other._id}`);
      }
    }
    const next = withHistory(
      restored,
      [{ event: 'restored', agentId: null, detail: null }],
      this.settings.now,
    );
    this.stage(base, next);
    for (const agent of next.agents) this.route(agent.agentId, next);
  }

  private decide(
    input: Extract<IdentificationInput, { type: 'decision' }>,
    key: string,
  ): DecisionResult | Problem | null {
    const { request } = input;
    const { policy, now } = this.settings;
    const pending = this.view.pending(request.agentId);
    const pendingHere = pending !== undefined && !this.pending.has(request.agentId);
    if (!pendingHere || pending.tenantId !== request.tenantId) {
      const problem: Problem = { kind: 'not-found', detail: 'pending decision not found' };
      this.reply(request.reply, { problem });
      return problem;
    }
    const pendingKey = identificationKey(pending.facts, policy);
    if (pendingKey !== key) return this.forward(input, pendingKey);
    const chosen = request.computerId === null ? undefined : this.stateNow(request.computerId);
    if (chosen !== undefined && ownerKeyOfState(chosen) !== key)
      return this.forward(input, ownerKeyOfState(chosen));
    const candidates = pending.candidates.flatMap((candidate) => {
      const state = this.stateNow(candidate.computerId);
      return state === undefined || state.deletedAt !== null ? [] : [state];
    });
    let outcome: ManualDecisionOutcome;
    try {
      if (chosen !== undefined && chosen.tenantId !== request.computerTenantId) {
        throw new NotFoundError(`computer ${chosen._id} no longer exists`);
      }
      outcome = applyManualDecision({
        request: {
          reason: pending.reason,
          matchedBy: pending.matchedBy,
          facts: pending.facts,
          candidates: pending.candidates,
        },
        candidates: candidates.map(domainComputer),
        choice:
          request.choice === 'keep-both'
            ? { kind: 'keep-both' }
            : { kind: request.choice, computerId: request.computerId ?? '' },
        policy,
        onboardingEnabledForTenant: this.view.onboardingEnabled(pending.facts.tenantId),
        newComputerId: this.settings.newComputerId(),
      });
    } catch (error) {
      const problem = problemOf(error);
      this.reply(request.reply, { problem });
      return problem;
    }
    const agentId = pending._id;
    const identified = [{ agentId, matchedBy: 'manual-decision' as const }];
    let deletedComputerId: string | null = null;
    if (outcome.kind === 'overwrite-existing') {
      const base = this.stateNow(outcome.computer.id) ?? null;
      const state = withHistory(
        stateFrom(outcome.computer, base, now),
        [{ event: 'agent-replaced', agentId, detail: outcome.replacedAgentId }],
        now,
      );
      this.stage(this.view.computer(state._id) ?? null, state, { identified, presence: true });
      if (outcome.replacedAgentId !== null) this.route(outcome.replacedAgentId, null);
      this.route(agentId, state);
    } else {
      if (outcome.kind === 'delete-existing') {
        const existing = this.stateNow(outcome.deletedComputerId);
        if (existing !== undefined) this.remove(this.view.computer(existing._id) ?? null, existing, agentId);
        deletedComputerId = outcome.deletedComputerId;
      }
      const state = withHistory(
        stateFrom(outcome.computer, null, now),
        [{ event: 'created', agentId, detail: `manual decision: ${outcome.kind}` }],
        now,
      );
      this.stage(null, state, { identified, presence: true });
      this.creators.set(state._id, input);
      this.route(agentId, state);
    }
    this.pending.set(agentId, { kind: 'resolve', agentId, factsVersion: pending.factsVersion });
    const result: DecisionResult = {
      outcome: outcome.kind,
      computerId: outcome.computer.id,
      deletedComputerId,
    };
    this.reply(request.reply, { result });
    return result;
  }
}
