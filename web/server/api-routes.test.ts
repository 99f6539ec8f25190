import { describe, expect, it } from '@jest/globals';
import { ApiRoutes } from './api-routes.ts';
import { mergeOpenApiDocuments, type OpenApiDocument } from './openapi-merge.ts';

const doc = (paths: string[], schemas: Record<string, unknown> = {}): OpenApiDocument => ({
  openapi: '3.1.0',
  info: { title: 't', version: '1' },
  paths: Object.fromEntries(paths.map((path) => [path, { get: { responses: {} } }])),
  components: { schemas },
});

const merged = mergeOpenApiDocuments({
  identity: doc(['/computers', '/computers/{computerId}', '/identification/failures/retry-all']),
  deployments: doc(['/computers/{computerId}/resolution', '/software/{id}']),
  sessions: doc(['/sessions/{sessionId}/live']),
});

describe('the edge’s routing table', () => {
  const routes = new ApiRoutes(merged);

  it('sends each path to the service whose document describes it', () => {
    expect(routes.serviceFor('/computers')).toBe('identity');
    expect(routes.serviceFor('/computers/c-1')).toBe('identity');
    expect(routes.serviceFor('/computers/c-1/resolution')).toBe('deployments');
    expect(routes.serviceFor('/sessions/s-1/live')).toBe('sessions');
    expect(routes.serviceFor('/identification/failures/retry-all')).toBe('identity');
  });

  it('has no owner for a path no document describes', () => {
    for (const path of [
      '',
      '/',
      '/nothing',
      '/computers/',
      '/computers/c-1/other',
      '/software',
      'computers',
    ]) {
      expect(routes.serviceFor(path)).toBeUndefined();
    }
  });
});

describe('the merged OpenAPI document', () => {
  it('keeps a component shared alike once and renames one that differs, with its references', () => {
    const same = { type: 'string' };
    const document = mergeOpenApiDocuments({
      identity: {
        ...doc([], {
          Id: same,
          Agent: { type: 'object', properties: { id: { $ref: '#/components/schemas/Id' } } },
        }),
        paths: { '/a': { get: { responses: { 200: { $ref: '#/components/schemas/Agent' } } } } },
      },
      sync: doc([], { Id: same, Agent: { type: 'string' } }),
    });
    expect(Object.keys(document.components?.schemas ?? {}).sort()).toEqual([
      'Id',
      'IdentityAgent',
      'SyncAgent',
    ]);
    expect(JSON.stringify(document.paths)).toContain('#/components/schemas/IdentityAgent');
    expect(document.paths?.['/a']?.['x-converge-service']).toBe('identity');
  });

  it('refuses two services describing the same path', () => {
    expect(() => mergeOpenApiDocuments({ identity: doc(['/a']), sync: doc(['/a']) })).toThrow(
      '/a is described by both identity and sync',
    );
  });
});
