import { randomUUID } from 'node:crypto';
import { contractEvent, type Bus } from '@converge/bus';
import {
  computerChangeRequested,
  computerIdentificationRequested,
  computerManualDecisionRequested,
  type ComputerChange,
  type EventContract,
} from '@converge/contracts';
import { ConflictError, NotFoundError, ValidationError } from '@converge/errors';
import type { OwnerReplies } from '@converge/runtime';
import { allTenants, type TenantScope } from '@converge/store';
import type { AgentFacts } from '../domain/computer.ts';
import { identificationKey, type IdentificationPolicy } from '../domain/identification.ts';
import type { TechnicianChoice } from '../domain/manual-decision.ts';
import { lookupIds, type AgentRoute } from '../data-access/computer-lookup.ts';
import type { ComputerRepository } from '../data-access/computer.repository.ts';
import { ownerKeyOf, type ComputerDocument } from '../data-access/computer.schema.ts';
import type { IdentificationFailureRepository } from '../data-access/identification-failure.repository.ts';
import type { PendingDecisionRepository } from '../data-access/pending-decision.repository.ts';
import { identificationKeyOf } from './agent-event-routing.ts';
import type {
  DecisionResult,
  IdentificationOutcome,
  OwnerAnswer,
  OwnerReply,
} from './identification-batch.ts';

export interface ComputerRequestsDeps {
  computers: ComputerRepository;
  pending: PendingDecisionRepository;
  failures: IdentificationFailureRepository;
  bus: Bus;
  replies: OwnerReplies;
  policy: IdentificationPolicy;
  clock: () => Date;
  /** How long a request waits for the owner to apply it before it is answered as accepted. */
  timeoutMs: number;
}

/** The owner has not answered in time: it applies the request when it gets to it; `location` shows the outcome. */
export interface Accepted {
  accepted: true;
  location: string;
}

export interface RetryAllResult {
  retried: number;
  outcomes: Record<IdentificationOutcome['kind'], number>;
  /** Retries whose owners had not answered in time: they are applied when their owners get to them. */
  unanswered: number;
}

function resultOf<T>(answer: OwnerAnswer<T>): T {
  if ('result' in answer) return answer.result;
  const { kind, detail } = answer.problem;
  if (kind === 'not-found') throw new NotFoundError(detail);
  if (kind === 'conflict') throw new ConflictError(detail);
  throw new ValidationError(detail);
}

const computerLocation = (computerId: string) => `/api/v1/computers/${encodeURIComponent(computerId)}`;

/**
 * What technicians ask of computers and of the identification queues. Nothing here writes a computer: each
 * request becomes a command for the owner of the computer's key (docs/architecture.md §9), which answers once it
 * stored what the command changed; a request not answered within `timeoutMs` is accepted and applied later.
 * `authorizeIn` refuses a tenant the technician may not manage computers in.
 */
export class ComputerRequests {
  private readonly deps: ComputerRequestsDeps;

  constructor(deps: ComputerRequestsDeps) {
    this.deps = deps;
  }

  /** Changes a computer in the caller's scope; the computer as changed, or accepted. */
  async change(
    scope: TenantScope,
    computerId: string,
    change: ComputerChange,
    authorizeIn: (tenantId: string) => void,
  ): Promise<ComputerDocument | Accepted> {
    const { computers } = this.deps;
    const doc = await computers.getById(scope, computerId);
    authorizeIn(doc.tenantId);
    if (change.kind === 'change-tenant') authorizeIn(change.tenantId);
    const answer = await this.send(computerChangeRequested, ownerKeyOf(doc), doc.tenantId, (reply) => ({
      computerId,
      tenantId: doc.tenantId,
      change,
      requestedAt: this.deps.clock().toISOString(),
      reply,
    }));
    if (answer === undefined) return { accepted: true, location: computerLocation(computerId) };
    resultOf(answer);
    return computers.getById(allTenants, computerId);
  }

  /** Applies a technician's answer to the agent's pending decision. */
  async decide(
    scope: TenantScope,
    agentId: string,
    choice: TechnicianChoice,
    authorizeIn: (tenantId: string) => void,
  ): Promise<DecisionResult | Accepted> {
    const pending = await this.deps.pending.getById(scope, agentId);
    authorizeIn(pending.tenantId);
    const candidate =
      choice.kind === 'keep-both' ? null : await this.deps.computers.findById(allTenants, choice.computerId);
    // A candidate that no longer exists is the owner's to refuse, as one that is none.
    if (candidate !== null) authorizeIn(candidate.tenantId);
    const key = identificationKey(pending.facts, this.deps.policy);
    const answer = await this.send(computerManualDecisionRequested, key, pending.tenantId, (reply) => ({
      agentId,
      tenantId: pending.tenantId,
      choice: choice.kind,
      computerId: choice.kind === 'keep-both' ? null : choice.computerId,
      computerTenantId: candidate?.tenantId ?? null,
      requestedAt: this.deps.clock().toISOString(),
      reply,
    }));
    if (answer === undefined) {
      const location =
        candidate === null ? '/api/v1/identification/pending-decisions' : computerLocation(candidate._id);
      return { accepted: true, location };
    }
    return resultOf(answer as OwnerAnswer<DecisionResult>);
  }

  /** Identifies a failed report again (after its cause, a setting or the agent, was fixed). */
  async retry(
    scope: TenantScope,
    agentId: string,
    authorizeIn: (tenantId: string) => void,
  ): Promise<IdentificationOutcome | Accepted> {
    const failure = await this.deps.failures.getById(scope, agentId);
    authorizeIn(failure.tenantId);
    const [answer] = await this.identifyAgain([failure.facts]);
    if (answer === undefined) return { accepted: true, location: '/api/v1/identification/failures' };
    return resultOf(answer);
  }

  /** Retries every failure in the scope (the queue is small: failures are the exception). */
  async retryAll(scope: TenantScope): Promise<RetryAllResult> {
    const outcomes: RetryAllResult['outcomes'] = {
      'no-change': 0,
      'refresh-facts': 0,
      'attach-agent': 0,
      'create-computer': 0,
      'needs-manual-decision': 0,
      failed: 0,
    };
    const agentFacts = [];
    let cursor: string | undefined;
    do {
      const page = await this.deps.failures.list(scope, {
        limit: 200,
        ...(cursor === undefined ? {} : { cursor }),
      });
      agentFacts.push(...page.items.map((item) => item.facts));
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    let unanswered = 0;
    for (const answer of await this.identifyAgain(agentFacts)) {
      if (answer === undefined) unanswered++;
      else outcomes[resultOf(answer).kind]++;
    }
    return { retried: agentFacts.length, outcomes, unanswered };
  }

  /** Sends facts to be identified again, as a technician's retries, in one request, and waits for the answers. */
  private async identifyAgain(
    agentFacts: readonly AgentFacts[],
  ): Promise<(OwnerAnswer<IdentificationOutcome> | undefined)[]> {
    const { computers, replies, bus, policy, timeoutMs } = this.deps;
    const routes = new Map(
      (
        (await computers.byIds(agentFacts.map((facts) => lookupIds.agent(facts.agentId)))) as AgentRoute[]
      ).map((route) => [route._id, route]),
    );
    const answers: Promise<OwnerAnswer<IdentificationOutcome> | undefined>[] = [];
    const events = agentFacts.map((facts) => {
      const requestId = randomUUID();
      answers.push(replies.expect<OwnerAnswer<IdentificationOutcome>>(requestId, timeoutMs));
      const route = routes.get(lookupIds.agent(facts.agentId));
      const key = identificationKeyOf(facts, route?.computerId === null ? undefined : route, policy);
      return contractEvent(computerIdentificationRequested, {
        subject: key,
        tenantId: facts.tenantId,
        data: {
          facts: { ...facts, loggedOnUpns: [...facts.loggedOnUpns] },
          retry: true,
          reply: { requestId, replyTo: replies.replyTo },
        },
      });
    });
    await bus.publishAll(events);
    return Promise.all(answers);
  }

  /** Sends one command to the owner of `key` and waits for its answer; undefined when none came in time. */
  private async send<T extends { reply: OwnerReply }>(
    contract: EventContract<T>,
    key: string,
    tenantId: string,
    data: (reply: NonNullable<OwnerReply>) => T,
  ): Promise<OwnerAnswer<unknown> | undefined> {
    const { replies, bus, timeoutMs } = this.deps;
    const reply = { requestId: randomUUID(), replyTo: replies.replyTo };
    const answer = replies.expect<OwnerAnswer<unknown>>(reply.requestId, timeoutMs);
    await bus.publishAll([contractEvent(contract, { subject: key, tenantId, data: data(reply) })]);
    return answer;
  }
}
