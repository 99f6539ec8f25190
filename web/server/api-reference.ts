import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import type { OpenApiDocument } from './openapi-merge.ts';

/** Where the interactive reference of the public API is served. */
export const referencePath = '/api/docs';

const swaggerUiDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
const assets: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
};

const page = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Converge API reference</title>
    <link rel="stylesheet" href="${referencePath}/swagger-ui.css" />
  </head>
  <body>
    <div id="reference"></div>
    <script src="${referencePath}/swagger-ui-bundle.js"></script>
    <script src="${referencePath}/init.js"></script>
  </body>
</html>
`;

// A separate script rather than an inline one, so the page works under a strict Content-Security-Policy.
const init = `window.ui = SwaggerUIBundle({
  url: '/api/v1/openapi.json',
  dom_id: '#reference',
  deepLinking: true,
  persistAuthorization: false,
  tryItOutEnabled: false,
});
`;

function send(res: ServerResponse, type: string, body: string | Buffer, cache: string): void {
  res.writeHead(200, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'cache-control': cache,
  });
  res.end(body);
}

/** The merged OpenAPI document, as `/api/v1/openapi.json` answers it. */
export function openApiDocumentHandler(document: OpenApiDocument) {
  const body = JSON.stringify(document);
  return (_req: IncomingMessage, res: ServerResponse): void => {
    send(res, 'application/json; charset=utf-8', body, 'no-cache');
  };
}

/** Serves the reference page (Swagger UI over the merged document); false when the path is not its. */
export async function serveApiReference(path: string, res: ServerResponse): Promise<boolean> {
  if (path === referencePath || path === `${referencePath}/`) {
    send(res, 'text/html; charset=utf-8', page, 'no-cache');
    return true;
  }
  if (path === `${referencePath}/init.js`) {
    send(res, 'text/javascript; charset=utf-8', init, 'no-cache');
    return true;
  }
  const asset = path.startsWith(`${referencePath}/`) ? path.slice(referencePath.length + 1) : '';
  const type = assets[asset];
  if (type === undefined) return false;
  const file = join(swaggerUiDir, asset);
  const { size } = await stat(file);
  res.writeHead(200, {
    'content-type': type,
    'content-length': size,
    'cache-control': 'public, max-age=3600',
  });
  createReadStream(file).pipe(res);
  return true;
}
