import { isDeepStrictEqual } from 'node:util';

/** The parts of an OpenAPI 3.1 document the merge reads; everything else is carried over as is. */
export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description?: string };
  paths?: Record<string, Record<string, unknown>>;
  components?: Record<string, Record<string, unknown>>;
  tags?: { name: string; description?: string }[];
  [key: string]: unknown;
}

/** The path item extension naming the service that owns a path (the edge routes by it). */
export const serviceExtension = 'x-converge-service';

const bearerScheme = {
  type: 'http',
  scheme: 'bearer',
  bearerFormat: 'JWT',
  description: 'An access token from the installation’s OpenID Connect provider for the API audience.',
};

const operationMethods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

function pascalCase(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_match, _dash: string, letter: string) => letter.toUpperCase());
}

function sortedObject<T>(entries: [string, T][]): Record<string, T> {
  return Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Deep copy with every `$ref` to a local component rewritten by `rename`. */
function withRefs(value: unknown, rename: (ref: string) => string): unknown {
  if (Array.isArray(value)) return value.map((item) => withRefs(item, rename));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [
      key,
      key === '$ref' && typeof item === 'string' ? rename(item) : withRefs(item, rename),
    ]),
  );
}

/**
 * One OpenAPI 3.1 document for the whole public API, from each service's own. Every path keeps its owner in
 * `x-converge-service` and its operations are tagged with the service. A component defined the same way by
 * several services is kept once under its name; one that differs between services is renamed to
 * `<Service><Name>` (e.g. `IdentityAgent`) in every document that defines it. Two services describing the same
 * path is an error: the edge could not route it. The output is sorted, so it is the same for the same inputs.
 */
export function mergeOpenApiDocuments(documents: Record<string, OpenApiDocument>): OpenApiDocument {
  const services = Object.keys(documents).sort();

  // Which definitions of each component differ between services.
  const definitions = new Map<string, { service: string; value: unknown }[]>();
  for (const service of services) {
    for (const [section, components] of Object.entries(documents[service]?.components ?? {})) {
      for (const [name, value] of Object.entries(components)) {
        const key = `${section}/${name}`;
        definitions.set(key, [...(definitions.get(key) ?? []), { service, value }]);
      }
    }
  }
  const conflicting = new Set(
    [...definitions]
      .filter(([, defs]) => defs.some((def) => !isDeepStrictEqual(def.value, defs[0]?.value)))
      .map(([key]) => key),
  );
  const mergedName = (service: string, key: string): string => {
    const [section = '', name = ''] = key.split('/');
    // Security requirements name schemes directly (no $ref): the merged document has one bearer scheme.
    if (section === 'securitySchemes' || !conflicting.has(key)) return key;
    return `${section}/${pascalCase(service)}${name.charAt(0).toUpperCase()}${name.slice(1)}`;
  };

  const components: Record<string, [string, unknown][]> = {};
  const paths: [string, Record<string, unknown>][] = [];
  const owners = new Map<string, string>();
  for (const service of services) {
    const document = documents[service];
    if (document === undefined) continue;
    const rename = (ref: string): string => {
      const local = /^#\/components\/(.+)$/.exec(ref);
      return local?.[1] === undefined ? ref : `#/components/${mergedName(service, local[1])}`;
    };
    for (const [section, defined] of Object.entries(document.components ?? {})) {
      for (const [name, value] of Object.entries(defined)) {
        const key = `${section}/${name}`;
        const merged = mergedName(service, key).split('/')[1] ?? name;
        const list = (components[section] ??= []);
        if (!list.some(([existing]) => existing === merged)) list.push([merged, withRefs(value, rename)]);
      }
    }
    for (const [path, item] of Object.entries(document.paths ?? {})) {
      const owner = owners.get(path);
      if (owner !== undefined) throw new Error(`${path} is described by both ${owner} and ${service}`);
      owners.set(path, service);
      const pathItem = withRefs(item, rename) as Record<string, unknown>;
      for (const method of operationMethods) {
        const operation = pathItem[method] as { tags?: string[] } | undefined;
        if (operation !== undefined) operation.tags = [service, ...(operation.tags ?? [])];
      }
      paths.push([path, { [serviceExtension]: service, ...pathItem }]);
    }
  }

  return {
    openapi: '3.1.0',
    info: {
      title: 'Converge API',
      version: '1.0.0',
      description:
        'The public API of a Converge installation: every service under one origin. Authenticate with a ' +
        'bearer access token from the installation’s OpenID Connect provider (a user’s, or a partner ' +
        'integration’s client-credentials token). Errors are RFC 9457 problem details. Each operation is ' +
        'tagged with the service that answers it.',
    },
    servers: [{ url: '/api/v1' }],
    security: [{ bearer: [] }],
    tags: services.map((service) => ({
      name: service,
      description: documents[service]?.info.description?.trim() ?? documents[service]?.info.title ?? '',
    })),
    paths: sortedObject(paths),
    components: sortedObject([
      ...Object.entries(components)
        .filter(([section]) => section !== 'securitySchemes')
        .map(([section, list]): [string, Record<string, unknown>] => [section, sortedObject(list)]),
      ['securitySchemes', { bearer: bearerScheme }],
    ]),
  };
}
