import * as grpc from '@grpc/grpc-js';
import { AgentGatewayService, makeGrpcClient, type GatewayMessage } from '@converge/proto';
import type { Credential } from '../credential-file.ts';
import { bearer, type AgentChannel, type ChannelHandlers, type ChannelTransport } from './agent-channel.ts';

/**
 * The gRPC `Connect` bidi stream, the credential in the call metadata. TLS follows the enrolled server URL:
 * an agent enrolled over https speaks TLS to the gRPC listener too.
 */
export function grpcTransport(credential: Credential, address: string): ChannelTransport {
  const tls = new URL(credential.server).protocol === 'https:';
  const client = gatewayClient(
    address,
    tls ? grpc.credentials.createSsl() : grpc.credentials.createInsecure(),
  );
  return {
    name: 'grpc',
    open: (handlers) => Promise.resolve(openStream(client, credential, handlers)),
    dispose: () => {
      client.close();
    },
  };
}

function gatewayClient(address: string, channelCredentials: grpc.ChannelCredentials) {
  return makeGrpcClient(AgentGatewayService, address, channelCredentials, {
    // HTTP/2 pings notice a silently dropped connection; five minutes is what servers allow by default.
    'grpc.keepalive_time_ms': 300_000,
    'grpc.keepalive_timeout_ms': 20_000,
  });
}

function openStream(
  client: ReturnType<typeof gatewayClient>,
  credential: Credential,
  handlers: ChannelHandlers,
): AgentChannel {
  const metadata = new grpc.Metadata();
  metadata.set('authorization', bearer(credential));
  const call = client.connect(metadata);
  let ended = false;
  call.on('data', (message: GatewayMessage) => {
    handlers.onMessage(message);
  });
  // Every end of the call, failed or not, arrives as a status; 'error' repeats the failures.
  call.on('error', () => undefined);
  call.on('status', (status: grpc.StatusObject) => {
    ended = true;
    handlers.onClose({ reason: `${grpc.status[status.code]}${status.details ? ` ${status.details}` : ''}` });
  });
  return {
    send: (message) =>
      new Promise((sent, failed) => {
        if (ended) {
          failed(new Error('the channel is closed'));
          return;
        }
        call.write(message, (error: Error | null | undefined) => {
          if (error) failed(error);
          else sent();
        });
      }),
    close: () => {
      if (!ended) call.cancel();
    },
  };
}
