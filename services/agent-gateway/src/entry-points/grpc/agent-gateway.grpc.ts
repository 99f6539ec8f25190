import * as grpc from '@grpc/grpc-js';
import { DomainError } from '@converge/errors';
import {
  AgentGatewayService,
  grpcServiceDefinition,
  type EnrollRequest,
  type EnrollResponse,
  create,
  EnrollResponseSchema,
} from '@converge/proto';
import type { Logger } from '@converge/telemetry';
import { TooManyEnrollmentsError, type EnrollmentThrottle } from '../../agents/enrollment-throttle.ts';
import { grpcPeerAddress } from '../../domain/enrollment-throttle.ts';
import { closeReasons, type AgentConnection, type AgentEntry } from '../../connections/agent-connection.ts';

export interface AgentGrpcServerOptions {
  host: string;
  port: number;
  maxFrameBytes: number;
  entry: AgentEntry;
  enrollment: EnrollmentThrottle;
  logger: Logger;
}

export interface AgentGrpcServer {
  port: number;
  stopAccepting(): void;
  close(): void;
}

type ConnectCall = grpc.ServerDuplexStream<Buffer, Uint8Array>;

function statusError(code: grpc.status, details: string): grpc.ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });
}

/**
 * The service definition with the Connect stream left as raw bytes both ways: the session decodes agent
 * frames itself (so a malformed one closes the stream with INVALID_ARGUMENT, as on WebSocket) and frames
 * going out are encoded once, whichever transport carries them.
 */
function definition(): grpc.ServiceDefinition {
  const generated = grpcServiceDefinition(AgentGatewayService);
  return {
    enroll: generated.enroll,
    connect: {
      ...generated.connect,
      requestDeserialize: (bytes: Buffer) => bytes,
      responseSerialize: (frame: Uint8Array) => Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength),
    },
  };
}

function grpcConnection(call: ConnectCall): AgentConnection {
  let queuedBytes = 0;
  let ended = false;
  return {
    transport: 'grpc',
    send: (frame) => {
      if (ended) return;
      queuedBytes += frame.byteLength;
      call.write(frame, () => {
        queuedBytes -= frame.byteLength;
      });
    },
    bufferedBytes: () => queuedBytes,
    close: (reason) => {
      if (ended) return;
      ended = true;
      const { grpc: code, text } = closeReasons[reason];
      call.emit('error', statusError(code, text));
    },
  };
}

/** The agents' gRPC listener: unary `Enroll` and the bidirectional `Connect` stream. */
export async function startAgentGrpcServer(opts: AgentGrpcServerOptions): Promise<AgentGrpcServer> {
  const { entry, logger } = opts;
  const server = new grpc.Server({
    // An oversized frame ends the stream with RESOURCE_EXHAUSTED before it reaches the session.
    'grpc.max_receive_message_length': opts.maxFrameBytes,
    'grpc.keepalive_permit_without_calls': 1,
  });

  const enroll: grpc.handleUnaryCall<EnrollRequest, EnrollResponse> = (call, callback) => {
    const { installToken } = call.request;
    const address = opts.enrollment.clientAddress(
      grpcPeerAddress(call.getPeer()),
      call.metadata.get('x-forwarded-for').map(String),
    );
    const enrolling = opts.enrollment.attempt(address, installToken, () => entry.enroll(installToken));
    enrolling.then(
      (enrolled) => {
        callback(null, create(EnrollResponseSchema, enrolled));
      },
      (error: unknown) => {
        if (error instanceof DomainError && error.status === 401) {
          callback(statusError(grpc.status.UNAUTHENTICATED, error.message));
          return;
        }
        if (error instanceof TooManyEnrollmentsError) {
          const refusal = statusError(grpc.status.RESOURCE_EXHAUSTED, error.message);
          refusal.metadata.set('retry-after', String(error.retryAfterSeconds));
          callback(refusal);
          return;
        }
        logger.error({ err: error }, 'agent enrollment failed');
        callback(statusError(grpc.status.UNAVAILABLE, 'enrollment failed, retry later'));
      },
    );
  };

  const connect = (call: ConnectCall): void => {
    let session: ReturnType<AgentEntry['open']> | undefined;
    call.on('error', () => session?.closed());
    call.on('close', () => session?.closed());
    void (async () => {
      if (entry.draining() || !(await entry.admit())) {
        call.emit(
          'error',
          statusError(grpc.status.UNAVAILABLE, 'too many agents are connecting, retry later'),
        );
        return;
      }
      const authorization = call.metadata.get('authorization')[0];
      const agent = await entry.authenticate(typeof authorization === 'string' ? authorization : undefined);
      if (agent === null) {
        entry.authFailed('grpc');
        call.emit('error', statusError(grpc.status.UNAUTHENTICATED, 'a valid agent credential is required'));
        return;
      }
      if (call.cancelled || call.destroyed) return;
      entry.accepted('grpc');
      const opened = entry.open(grpcConnection(call), agent);
      session = opened;
      call.on('data', (bytes: Buffer) => {
        opened.frame(bytes);
      });
      call.on('end', () => {
        call.end();
        opened.closed();
      });
      call.on('cancelled', () => {
        opened.closed();
      });
    })().catch((error: unknown) => {
      logger.error({ err: error }, 'agent stream could not be accepted');
      call.emit(
        'error',
        statusError(grpc.status.UNAVAILABLE, 'the connection could not be accepted, retry later'),
      );
    });
  };

  server.addService(definition(), { enroll, connect });
  const address = `${opts.host}:${String(opts.port)}`;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (error, bound) => {
      if (error) reject(error);
      else resolve(bound);
    });
  });
  const boundAddress = `${opts.host}:${String(port)}`;

  return {
    port,
    stopAccepting: () => {
      server.unbind(boundAddress);
    },
    close: () => {
      server.forceShutdown();
    },
  };
}
