export { actions, can, type Action } from './permissions.ts';
export { authorize, tenantScopeOf } from './tenant-scope.ts';
