export { actions, can, type Action } from './permissions.ts';
export { authorize, authorizeSubtree, tenantScopeOf } from './tenant-scope.ts';
export {
  createEffectiveAccess,
  defaultAccessKeyPrefix,
  effectiveAccessStore,
  effectivePrincipal,
  type EffectiveAccessRecord,
  type EffectiveAccessResolver,
  type EffectiveAccessStore,
} from './effective-access.ts';
export {
  accessMiddleware,
  impersonationHeader,
  impersonatorOf,
  type AccessMiddlewareOptions,
  type ImpersonatedRequest,
} from './access-middleware.ts';
