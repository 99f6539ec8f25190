import { describe, expect, it } from '@jest/globals';
import { FinalLineTracker, OutputCollector, type OutputPiece } from './output-stream.ts';

function collector(limits: { chunkBytes: number; maxBytes: number; flushIntervalMs?: number }) {
  const pieces: OutputPiece[] = [];
  const output = new OutputCollector({ flushIntervalMs: 10_000, ...limits }, (piece) => pieces.push(piece));
  return { output, pieces };
}

describe('output collector', () => {
  it('keeps the arrival order across stdout and stderr and numbers chunks from 0', () => {
    const { output, pieces } = collector({ chunkBytes: 1024, maxBytes: 1 << 20 });
    output.write('stdout', Buffer.from('a'));
    output.write('stdout', Buffer.from('b'));
    output.write('stderr', Buffer.from('c'));
    output.write('stdout', Buffer.from('d'));
    expect(pieces).toEqual([]);
    output.finish();
    expect(pieces.map((p) => [p.seq, p.stream, p.data.toString()])).toEqual([
      [0, 'stdout', 'ab'],
      [1, 'stderr', 'c'],
      [2, 'stdout', 'd'],
    ]);
  });

  it('sends a full chunk at once and never sends one larger than the chunk size', () => {
    const { output, pieces } = collector({ chunkBytes: 4, maxBytes: 1 << 20 });
    output.write('stdout', Buffer.from('0123456789'));
    expect(pieces.map((p) => p.data.toString())).toEqual(['0123', '4567', '89']);
  });

  it('flushes what waits after the flush interval', async () => {
    const { output, pieces } = collector({ chunkBytes: 1024, maxBytes: 1 << 20, flushIntervalMs: 20 });
    output.write('stdout', Buffer.from('hello'));
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(pieces.map((p) => p.data.toString())).toEqual(['hello']);
    output.finish();
  });

  it('stops at the cap, says so, and still finds the last line beyond it', () => {
    const { output, pieces } = collector({ chunkBytes: 4, maxBytes: 6 });
    output.write('stdout', Buffer.from('abcd\n'));
    output.write('stderr', Buffer.from('xyz'));
    output.write('stdout', Buffer.from('2.0.1\n\n'));
    const summary = output.finish();
    expect(Buffer.concat(pieces.map((p) => p.data)).toString()).toBe('abcd\nx');
    expect(summary).toEqual({ truncated: true, finalOutputLine: '2.0.1' });
  });

  it('is not truncated when the output fits exactly', () => {
    const { output } = collector({ chunkBytes: 4, maxBytes: 6 });
    output.write('stdout', Buffer.from('abcdef'));
    expect(output.finish().truncated).toBe(false);
  });
});

describe('final output line', () => {
  it('is the last non-empty line, trimmed, even when split across writes or ending without a newline', () => {
    const tracker = new FinalLineTracker();
    tracker.push(Buffer.from('first\nsec'));
    expect(tracker.value()).toBe('sec');
    tracker.push(Buffer.from('ond\r\n  \n'));
    expect(tracker.value()).toBe('second');
    tracker.push(Buffer.from('  true  '));
    expect(tracker.value()).toBe('true');
  });

  it('is empty when stdout had no visible text', () => {
    const tracker = new FinalLineTracker();
    tracker.push(Buffer.from('\n \n\t\n'));
    expect(tracker.value()).toBe('');
  });
});
