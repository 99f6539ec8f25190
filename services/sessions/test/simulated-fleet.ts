// A fleet of simulated computers for the sessions service's tests and benchmark: it answers the service's
// commands on the real broker as the gateway and agents would, and serves `Resolve` over real gRPC as the
// deployments service would. Script bodies are tiny instructions (`detect reader`, `install reader`) run
// against each computer's in-memory state.
import * as grpc from '@grpc/grpc-js';
import {
  contractEvent,
  createBus,
  isEvent,
  type Bus,
  type ContractEvent,
  type Subscription,
} from '@converge/bus';
import {
  agentCommandCancelRequested,
  agentCommandRequested,
  commandCompleted,
  commandOutputChunk,
  createCommandIds,
  sessionStatusChanged,
  topics,
  type AgentCommandRequested,
  type CommandCompleted,
  type ComputerChanged,
} from '@converge/contracts';
import {
  addGrpcService,
  create,
  DesiredState,
  MaintenanceItemKind,
  PlannedItemSchema,
  ResolutionService,
  ResolveResponseSchema,
  ScriptExecutionContext,
  ScriptLanguage,
  ScriptStep,
  StepScriptSchema,
  type PlannedItem,
} from '@converge/proto';
import { GrpcStatusError, createLogger, traceGrpcHandler } from '@converge/telemetry';
import { stack, testKeys, uniqueId } from '@converge/testing';

const finalStatuses = new Set(['passed', 'partially-passed', 'failed', 'cancelled', 'missed']);

export interface SimulatedComputer {
  /** Installed software: item id -> version. */
  installed: Map<string, string>;
  /** Task values: item id -> compliant. */
  compliant: Map<string, boolean>;
  online: boolean;
  /** Commands not answered at all (a hung script), by step name. */
  hangSteps: Set<string>;
}

export interface FleetOptions {
  /** Prefix of this run's topics, shared with the sessions service under test. */
  topicPrefix: string;
  /** Every result sent twice (redelivery). */
  duplicateResults?: boolean;
  /** How long each script runs, as (min, max) ms, uniformly: real scripts take seconds to minutes. */
  scriptMs?: { min: number; max: number };
  /** How long `Resolve` takes to answer. */
  planDelayMs?: number;
  /** Partitions of the topics the fleet creates (default 3; `npm start` makes 12). */
  partitions?: number;
}

/** Identity's snapshot of a maintainable computer with one agent, as the sessions service consumes it. */
export function computerSnapshot(
  computerId: string,
  tenantId: string,
  fields: Partial<ComputerChanged> = {},
): ComputerChanged {
  return {
    computerId,
    tenantId,
    version: 1,
    name: computerId,
    deviceType: 'workstation',
    isPrimaryDomainController: false,
    os: 'linux',
    osVersion: '12',
    serialNumber: null,
    tags: [],
    primaryPersonId: null,
    personIds: [],
    excludedFromMaintenance: false,
    onboardingStatus: 'onboarded',
    agentIds: [`agent-${computerId}`],
    deletedAt: null,
    changedAt: new Date().toISOString(),
    ...fields,
  };
}

/** One planned software item for the fake `Resolve`. */
export function plannedSoftware(
  id: string,
  opts: { version?: string; prerequisites?: string[]; state?: DesiredState } = {},
): PlannedItem {
  const script = (step: ScriptStep, verb: string) =>
    create(StepScriptSchema, {
      step,
      scriptId: `${id}-${verb}`,
      language: ScriptLanguage.BASH,
      executionContext: ScriptExecutionContext.SYSTEM,
      body: `${verb} ${id}`,
      timeoutSeconds: 60,
    });
  return create(PlannedItemSchema, {
    maintenanceItemId: id,
    kind: MaintenanceItemKind.SOFTWARE,
    name: id,
    desiredState: opts.state ?? DesiredState.INSTALLED_LATEST,
    desiredVersion: opts.version ?? '1.0',
    prerequisites: opts.prerequisites ?? [],
    scripts: [
      script(ScriptStep.DETECT, 'detect'),
      script(ScriptStep.INSTALL, 'install'),
      script(ScriptStep.UNINSTALL, 'uninstall'),
    ],
  });
}

export class SimulatedFleet {
  readonly computers = new Map<string, SimulatedComputer>();
  /** Plans by computer id; a computer without one is answered NOT_FOUND. */
  readonly plans = new Map<string, PlannedItem[]>();
  /** The ids the sessions service issues, with the key it was started with (`startService`). */
  readonly commandIds = createCommandIds(testKeys.commandId);
  /**
   * Every command the agents RAN (not merely received), in order, by the session's own name for it
   * (`<session>:<action>:<step>`): a second run of one is a bug.
   */
  readonly runs: string[] = [];
  private readonly ran = new Set<string>();
  /** Answers waiting to be sent, sent together every few milliseconds as a gateway batches them. */
  private outgoing: ContractEvent[] = [];
  private flushing: NodeJS.Timeout | undefined;
  readonly received: AgentCommandRequested[] = [];
  /** Commands cancelled, by the session's own name for them. */
  readonly cancelled: string[] = [];
  private readonly answered = new Map<string, CommandCompleted>();
  /** When each session last got an answer, and the time from it to the session's next command. */
  private readonly lastAnswerAt = new Map<string, number>();
  private readonly finalStatuses = new Map<string, string>();
  private readonly finalVersionsBySession = new Map<string, number>();
  private statusSubscription: Subscription | undefined;
  private readonly turnarounds: number[] = [];
  private bus!: Bus;
  private subscription!: Subscription;
  private server!: grpc.Server;
  grpcAddress = '';
  private readonly opts: FleetOptions;

  constructor(opts: FleetOptions) {
    this.opts = opts;
  }

  computer(agentId: string): SimulatedComputer {
    let computer = this.computers.get(agentId);
    if (computer === undefined) {
      computer = { installed: new Map(), compliant: new Map(), online: true, hangSteps: new Set() };
      this.computers.set(agentId, computer);
    }
    return computer;
  }

  async start(): Promise<void> {
    const run = uniqueId('fleet');
    this.bus = createBus({
      brokers: stack.kafkaBrokers,
      clientId: run,
      source: 'agent-gateway',
      logger: createLogger({ service: 'fleet', level: 'silent' }),
      topicPrefix: this.opts.topicPrefix,
    });
    await this.bus.connect();
    const partitions = this.opts.partitions ?? 3;
    await this.bus.ensureTopics([
      { topic: topics.commands, partitions },
      { topic: topics.commandResults, partitions },
      { topic: topics.agentEvents, partitions },
      { topic: topics.computerEvents, partitions },
    ]);
    this.subscription = await this.bus.subscribe({
      groupId: `${run}.commands`,
      topics: [topics.commands],
      fromBeginning: true,
      // As the gateway reads commands: offsets committed in the background, not a round trip per batch.
      commitIntervalMs: 1_000,
      handle: (event) => {
        if (isEvent(event, agentCommandRequested)) this.run(event.data);
        else if (isEvent(event, agentCommandCancelRequested)) this.cancelled.push(this.refOf(event.data));
        return Promise.resolve();
      },
    });
    this.server = new grpc.Server();
    addGrpcService(this.server, ResolutionService, {
      resolve: traceGrpcHandler('/converge.deployments.v1.ResolutionService/Resolve', (call) => {
        const items = this.plans.get(call.request.computerId);
        if (items === undefined) throw new GrpcStatusError(grpc.status.NOT_FOUND, 'computer not found');
        const answer = create(ResolveResponseSchema, { items });
        const delay = this.opts.planDelayMs ?? 0;
        return new Promise((resolve) => setTimeout(resolve, delay, answer));
      }),
    });
    const port = await new Promise<number>((resolve, reject) => {
      this.server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => {
        if (error) reject(error);
        else resolve(bound);
      });
    });
    this.grpcAddress = `127.0.0.1:${port}`;
  }

  /** Orchestration turnaround per step: from an answer to a session until its next command arrived, in ms. */
  turnaroundsMs(): number[] {
    return [...this.turnarounds];
  }

  get publisher(): Bus {
    return this.bus;
  }

  /** Sessions whose status became final, as the sessions service published it (after `watchStatuses`). */
  finished(): ReadonlyMap<string, string> {
    return this.finalStatuses;
  }

  /** The version each finished session published its final status with. */
  finalVersions(): ReadonlyMap<string, number> {
    return this.finalVersionsBySession;
  }

  /** The session's own name for a command it issued; throws for one it did not. */
  refOf(command: { agentId: string; sessionId: string; commandId: string }): string {
    const ref = this.commandIds.refOf(command.agentId, command.sessionId, command.commandId);
    if (ref === null) throw new Error(`command ${command.commandId} was not issued to ${command.agentId}`);
    return ref;
  }

  /** Records the final status of every session from the sessions service's events (once that service runs). */
  async watchStatuses(): Promise<void> {
    this.statusSubscription = await this.bus.subscribe({
      groupId: uniqueId('fleet-statuses'),
      topics: [topics.sessionEvents],
      fromBeginning: true,
      handle: (event) => {
        if (isEvent(event, sessionStatusChanged) && finalStatuses.has(event.data.status)) {
          this.finalStatuses.set(event.data.sessionId, event.data.status);
          this.finalVersionsBySession.set(event.data.sessionId, event.data.version);
        }
        return Promise.resolve();
      },
    });
  }

  async stop(): Promise<void> {
    await this.subscription.stop();
    await this.statusSubscription?.stop();
    clearTimeout(this.flushing);
    await this.bus.disconnect();
    this.server.forceShutdown();
  }

  /** Like the agent: a command id it has seen is not run again; a finished one has its result sent again. */
  private run(command: AgentCommandRequested): void {
    this.received.push(command);
    const answeredAt = this.lastAnswerAt.get(command.sessionId);
    if (answeredAt !== undefined) {
      this.turnarounds.push(performance.now() - answeredAt);
      this.lastAnswerAt.delete(command.sessionId);
    }
    const computer = this.computer(command.agentId);
    if (!computer.online) {
      this.answer(command, { outcome: 'undeliverable', exitCode: null, lastLine: null });
      return;
    }
    const previous = this.answered.get(command.commandId);
    if (previous !== undefined) {
      this.send(contractEvent(commandCompleted, { subject: command.sessionId, data: previous }));
      return;
    }
    if (this.ran.has(command.commandId)) return;
    const [verb = '', item = ''] = command.body.split(' ');
    if (computer.hangSteps.has(verb)) return;
    this.ran.add(command.commandId);
    this.runs.push(this.refOf(command));
    const { scriptMs } = this.opts;
    if (scriptMs === undefined) this.finish(command, computer, verb, item);
    else {
      const ms = scriptMs.min + Math.random() * (scriptMs.max - scriptMs.min);
      setTimeout(() => {
        this.finish(command, computer, verb, item);
      }, ms);
    }
  }

  /** The script's effect on the computer, its output and its result. */
  private finish(
    command: AgentCommandRequested,
    computer: SimulatedComputer,
    verb: string,
    item: string,
  ): void {
    let lastLine = '';
    switch (verb) {
      case 'detect':
        lastLine = computer.installed.get(item) ?? '';
        break;
      case 'install':
        computer.installed.set(item, String(command.parameters.version ?? '1.0'));
        break;
      case 'uninstall':
        computer.installed.delete(item);
        break;
      case 'test':
        lastLine = String(computer.compliant.get(item) ?? false);
        break;
      case 'set':
        computer.compliant.set(item, true);
        break;
    }
    // Results and output are keyed by session id: the session's owner reads them (docs/architecture.md §9).
    this.send(
      contractEvent(commandOutputChunk, {
        subject: command.sessionId,
        data: { ...ref(command), seq: 0, stream: 'stdout', data: `${verb} ${item}: ${lastLine || 'done'}\n` },
      }),
    );
    this.answer(command, { outcome: 'completed', exitCode: 0, lastLine });
  }

  private send(event: ContractEvent): void {
    this.outgoing.push(event);
    this.flushing ??= setTimeout(() => {
      this.flushing = undefined;
      const events = this.outgoing;
      this.outgoing = [];
      const sentAt = performance.now();
      for (const { event: sent } of events) {
        if (this.answering.has(sent)) this.lastAnswerAt.set(sent.subject, sentAt);
      }
      this.bus.publishAll(events).catch((error: unknown) => {
        console.error('the simulated fleet could not answer', error);
      });
    }, 2);
  }

  /** Answers (results) among the events waiting to be sent: a session's turnaround counts from them. */
  private readonly answering = new WeakSet<object>();

  private answer(
    command: AgentCommandRequested,
    result: Pick<CommandCompleted, 'outcome' | 'exitCode' | 'lastLine'>,
  ): void {
    const data: CommandCompleted = {
      ...ref(command),
      ...result,
      durationMs: 1,
      truncated: false,
      completedAt: new Date().toISOString(),
    };
    if (result.outcome !== 'undeliverable') this.answered.set(command.commandId, data);
    const copies = this.opts.duplicateResults ? 2 : 1;
    for (let copy = 0; copy < copies; copy++) {
      const event = contractEvent(commandCompleted, { subject: command.sessionId, data });
      this.answering.add(event.event);
      this.send(event);
    }
  }
}

function ref(command: AgentCommandRequested) {
  return {
    commandId: command.commandId,
    agentId: command.agentId,
    tenantId: command.tenantId,
    sessionId: command.sessionId,
  };
}
