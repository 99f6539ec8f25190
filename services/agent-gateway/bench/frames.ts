// Message framing on a byte stream, for the two bench transports that are not WebSocket: the raw-TCP floor
// (a 4-byte big-endian length, then the message) and the fleet's gRPC client (a 1-byte compression flag,
// then the same length and message: gRPC's length-prefixed message). Both read one protobuf message per frame,
// as the gateway reads one per WebSocket binary frame.

/** The gateway's own frame limit (docs/agent-connection.md), kept by the floor too. */
export const maxFrameBytes = 1024 * 1024;

export type FramePrefix = 'length' | 'grpc';

const headerBytes: Record<FramePrefix, number> = { length: 4, grpc: 5 };

/** One message with its prefix, ready for `socket.write`. */
export function framed(prefix: FramePrefix, message: Uint8Array): Buffer {
  const header = headerBytes[prefix];
  const frame = Buffer.allocUnsafe(header + message.length);
  if (prefix === 'grpc') frame[0] = 0; // not compressed
  frame.writeUInt32BE(message.length, header - 4);
  frame.set(message, header);
  return frame;
}

export class FrameTooLarge extends Error {}

/**
 * Returns a `data` listener that cuts the stream into messages. It holds bytes only while a message is
 * incomplete, so an idle connection costs nothing here; it throws FrameTooLarge before buffering an oversized
 * message.
 */
export function frameReader(
  prefix: FramePrefix,
  onMessage: (message: Buffer) => void,
): (chunk: Buffer) => void {
  const header = headerBytes[prefix];
  let pending: Buffer | undefined;
  return (chunk) => {
    let buffer = pending ? Buffer.concat([pending, chunk]) : chunk;
    pending = undefined;
    while (buffer.length >= header) {
      const length = buffer.readUInt32BE(header - 4);
      if (length > maxFrameBytes) throw new FrameTooLarge(`frame of ${length} bytes`);
      if (buffer.length < header + length) break;
      onMessage(buffer.subarray(header, header + length));
      buffer = buffer.subarray(header + length);
    }
    if (buffer.length > 0) pending = Buffer.from(buffer); // a copy, so the chunk it came from can be freed
  };
}
