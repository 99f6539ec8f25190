import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createLogger } from './logger.ts';
import { startTelemetry, type Telemetry } from './telemetry-sdk.ts';
import { withSpan } from './trace-context.ts';

type Line = Record<string, unknown>;

function captureLogger(): { logger: ReturnType<typeof createLogger>; lines: Line[] } {
  const lines: Line[] = [];
  const logger = createLogger({
    service: 'logger-test',
    level: 'debug',
    destination: { write: (line: string) => lines.push(JSON.parse(line) as Line) },
  });
  return { logger, lines };
}

describe('createLogger', () => {
  let telemetry: Telemetry;
  beforeAll(() => {
    telemetry = startTelemetry({ serviceName: 'logger-test' });
  });
  afterAll(() => telemetry.shutdown());

  it('writes JSON lines naming the service and the level', () => {
    const { logger, lines } = captureLogger();
    logger.debug({ computerId: 'c-1' }, 'computer identified');
    expect(lines).toEqual([
      expect.objectContaining({
        service: 'logger-test',
        level: 'debug',
        computerId: 'c-1',
        msg: 'computer identified',
      }),
    ]);
    expect(lines[0]).not.toHaveProperty('trace_id');
  });

  it('stamps every line logged inside a span with that span trace and span ids', async () => {
    const { logger, lines } = captureLogger();
    const ids = await withSpan('work', {}, (span) => {
      logger.info('inside');
      return Promise.resolve(span.spanContext());
    });
    expect(ids.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(lines[0]).toMatchObject({ trace_id: ids.traceId, span_id: ids.spanId });
  });

  it('redacts secrets at the top level, one object deep and in authorization headers', () => {
    const { logger, lines } = captureLogger();
    logger.info(
      {
        password: 'p',
        integration: { clientSecret: 'cs', tenantId: 't-1' },
        req: { headers: { authorization: 'Bearer abc', host: 'h' } },
      },
      'configured',
    );
    const line = JSON.stringify(lines[0]);
    for (const secret of ['"p"', 'cs', 'Bearer abc']) expect(line).not.toContain(secret);
    expect(lines[0]).toMatchObject({
      password: '[redacted]',
      integration: { clientSecret: '[redacted]', tenantId: 't-1' },
      req: { headers: { authorization: '[redacted]', host: 'h' } },
    });
  });
});
