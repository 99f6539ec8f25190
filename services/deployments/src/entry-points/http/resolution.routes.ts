import type { Router } from 'express';
import { principalOf } from '@converge/http';
import type { SessionKind } from '../../domain/types.ts';
import type { ResolutionUseCases } from '../../use-cases/resolution.ts';
import { pathId, queryText } from './request-parsing.ts';

/** The resolution preview: the plan a session would get, with every candidate explained. */
export function resolutionRouter(resolution: ResolutionUseCases) {
  return (router: Router): void => {
    router.get('/computers/:computerId/resolution', async (req, res) => {
      const item = queryText(req, 'item');
      const adHoc = queryText(req, 'adHoc');
      const preview = await resolution.preview(
        principalOf(res),
        pathId(req, 'computerId'),
        {
          sessionKind: (queryText(req, 'sessionKind') ?? 'full') as SessionKind,
          ...(item === undefined ? {} : { itemId: item }),
          ...(adHoc === undefined ? {} : { adHoc: adHoc === 'true' }),
        },
        Date.now(),
      );
      res.json(preview);
    });
  };
}
