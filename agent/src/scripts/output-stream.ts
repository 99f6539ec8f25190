// A script's stdout and stderr become OutputChunk frames: numbered from 0 across both streams in the order the
// bytes arrived, at most `chunkBytes` each, sent every `flushIntervalMs` (or sooner when a full chunk is
// waiting), and no more than `maxBytes` per command so one chatty script cannot flood the gateway.

export type OutputStreamName = 'stdout' | 'stderr';

export interface OutputPiece {
  seq: number;
  stream: OutputStreamName;
  data: Buffer;
}

export interface OutputLimits {
  chunkBytes: number;
  flushIntervalMs: number;
  maxBytes: number;
}

export const defaultOutputLimits: OutputLimits = {
  chunkBytes: 16 * 1024,
  flushIntervalMs: 100,
  maxBytes: 1024 * 1024,
};

interface PendingSegment {
  stream: OutputStreamName;
  parts: Buffer[];
  bytes: number;
}

export interface OutputSummary {
  truncated: boolean;
  /** The last non-empty stdout line, trimmed: the detection value. Taken from all of stdout, past the cap too. */
  finalOutputLine: string;
}

export class OutputCollector {
  readonly #limits: OutputLimits;
  readonly #emit: (piece: OutputPiece) => void;
  readonly #finalLine = new FinalLineTracker();
  #pending: PendingSegment[] = [];
  #pendingBytes = 0;
  #acceptedBytes = 0;
  #seq = 0;
  #truncated = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(limits: OutputLimits, emit: (piece: OutputPiece) => void) {
    this.#limits = limits;
    this.#emit = emit;
  }

  write(stream: OutputStreamName, data: Buffer): void {
    if (stream === 'stdout') this.#finalLine.push(data);
    if (this.#truncated) return;
    const room = this.#limits.maxBytes - this.#acceptedBytes;
    const accepted = data.length > room ? data.subarray(0, room) : data;
    if (accepted.length < data.length) this.#truncated = true;
    if (accepted.length === 0) return;
    this.#acceptedBytes += accepted.length;

    const last = this.#pending.at(-1);
    if (last?.stream === stream) {
      last.parts.push(accepted);
      last.bytes += accepted.length;
    } else {
      this.#pending.push({ stream, parts: [accepted], bytes: accepted.length });
    }
    this.#pendingBytes += accepted.length;

    if (this.#pendingBytes >= this.#limits.chunkBytes) this.flush();
    else
      this.#timer ??= setTimeout(() => {
        this.flush();
      }, this.#limits.flushIntervalMs).unref();
  }

  /** Emits everything waiting, in arrival order, split into chunks of at most `chunkBytes`. */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const segments = this.#pending;
    this.#pending = [];
    this.#pendingBytes = 0;
    for (const segment of segments) {
      const data = Buffer.concat(segment.parts, segment.bytes);
      for (let offset = 0; offset < data.length; offset += this.#limits.chunkBytes) {
        const piece = data.subarray(offset, offset + this.#limits.chunkBytes);
        this.#emit({ seq: this.#seq++, stream: segment.stream, data: piece });
      }
    }
  }

  /** Emits what is left and summarises the output; nothing is emitted afterwards. */
  finish(): OutputSummary {
    this.flush();
    return { truncated: this.#truncated, finalOutputLine: this.#finalLine.value() };
  }
}

/** Longest line kept while waiting for its end: a detection value is short, a runaway line is not. */
const maxLineBytes = 8 * 1024;
const newline = 0x0a;

/** Follows stdout and remembers its last non-empty line without keeping the output. */
export class FinalLineTracker {
  #partial: Buffer = Buffer.alloc(0);
  #lastComplete = '';

  push(data: Buffer): void {
    const lastNewline = data.lastIndexOf(newline);
    if (lastNewline === -1) {
      this.#partial = keepTail(Buffer.concat([this.#partial, data]));
      return;
    }
    const completed = Buffer.concat([this.#partial, data.subarray(0, lastNewline)]).toString('utf8');
    const line = lastNonEmptyLine(completed);
    if (line !== undefined) this.#lastComplete = line;
    this.#partial = keepTail(data.subarray(lastNewline + 1));
  }

  value(): string {
    return lastNonEmptyLine(this.#partial.toString('utf8')) ?? this.#lastComplete;
  }
}

function keepTail(buffer: Buffer): Buffer {
  return buffer.length > maxLineBytes ? buffer.subarray(buffer.length - maxLineBytes) : buffer;
}

function lastNonEmptyLine(text: string): string | undefined {
  const lines = text.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]?.trim();
    if (line) return line;
  }
  return undefined;
}
