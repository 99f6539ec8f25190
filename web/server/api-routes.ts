import { isApiService, type ApiService } from './api-services.ts';
import { serviceExtension, type OpenApiDocument } from './openapi-merge.ts';

interface Node {
  literal: Map<string, Node>;
  parameter: Node | undefined;
  service: ApiService | undefined;
}

const emptyNode = (): Node => ({ literal: new Map(), parameter: undefined, service: undefined });

/**
 * Which service answers a path under `/api/v1`, from the merged OpenAPI document's path templates (the one
 * place routes are declared: each service's own document). A literal segment wins over a parameter, so
 * `/computers/{computerId}/resolution` (deployments) and `/computers/{computerId}` (identity) each reach their
 * owner. A path no document describes has no owner.
 */
export class ApiRoutes {
  private readonly root = emptyNode();

  constructor(document: OpenApiDocument) {
    for (const [template, item] of Object.entries(document.paths ?? {})) {
      const service = item[serviceExtension];
      if (!isApiService(service)) throw new Error(`${template} names no known service`);
      let node = this.root;
      for (const segment of template.split('/').slice(1)) {
        if (/^\{[^}]+\}$/.test(segment)) {
          node = node.parameter ??= emptyNode();
        } else {
          let next = node.literal.get(segment);
          if (next === undefined) node.literal.set(segment, (next = emptyNode()));
          node = next;
        }
      }
      node.service = service;
    }
  }

  /** The owner of `path` (relative to `/api/v1`, starting with `/`, without the query), if any. */
  serviceFor(path: string): ApiService | undefined {
    const segments = path.split('/');
    if (segments[0] !== '') return undefined;
    return this.find(this.root, segments, 1);
  }

  private find(node: Node, segments: string[], index: number): ApiService | undefined {
    if (index === segments.length) return node.service;
    const segment = segments[index] ?? '';
    const literal = node.literal.get(segment);
    const viaLiteral = literal === undefined ? undefined : this.find(literal, segments, index + 1);
    if (viaLiteral !== undefined) return viaLiteral;
    // A parameter matches one non-empty segment.
    return node.parameter === undefined || segment === ''
      ? undefined
      : this.find(node.parameter, segments, index + 1);
  }
}
