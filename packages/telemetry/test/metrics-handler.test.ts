import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getMeter, startTelemetry, type Telemetry } from '@converge/telemetry';

describe('metricsHandler', () => {
  let telemetry: Telemetry;
  let server: Server;
  let url: string;

  beforeAll(async () => {
    telemetry = startTelemetry({ serviceName: 'metrics-test', serviceVersion: '1.2.3' });
    // Services pass the handler around as a plain function, detached from the telemetry object.
    const { metricsHandler } = telemetry;
    server = createServer(metricsHandler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await telemetry.shutdown();
  });

  it('serves counters created through getMeter in the Prometheus text format', async () => {
    const counter = getMeter().createCounter('converge_commands_routed', { description: 'Commands routed' });
    counter.add(2, { outcome: 'delivered' });
    counter.add(1, { outcome: 'undeliverable' });

    const response = await fetch(url);
    const body = await response.text();

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    expect(body).toContain('# HELP converge_commands_routed_total Commands routed');
    expect(body).toMatch(/^converge_commands_routed_total\{[^}]*outcome="delivered"[^}]*\} 2$/m);
    expect(body).toMatch(/^converge_commands_routed_total\{[^}]*outcome="undeliverable"[^}]*\} 1$/m);
    expect(body).toMatch(/^target_info\{[^}]*service_name="metrics-test"[^}]*service_version="1.2.3"/m);
  });
});
