export { actions, can, canGrant, type Action } from './permissions.ts';
export { authorize, authorizeSubtree, tenantScopeOf } from './tenant-scope.ts';
export {
  createEffectiveAccess,
  defaultAccessKeyPrefix,
  effectiveAccessStore,
  effectivePrincipal,
  type EffectiveAccessRecord,
  type EffectiveAccessResolver,
  type EffectiveAccessStore,
  type SignInIdentity,
} from './effective-access.ts';
export {
  accessMiddleware,
  impersonationHeader,
  impersonatorOf,
  type AccessMiddlewareOptions,
  type ImpersonatedRequest,
} from './access-middleware.ts';
