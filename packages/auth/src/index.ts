export { hasRole, isMspUser, isRole, roles } from './roles.ts';
export type { Principal, Role } from './roles.ts';
export { principalFromClaims } from './principal-claims.ts';
export { createTokenVerifier } from './token-verifier.ts';
export type { TokenVerifier, TokenVerifierOptions } from './token-verifier.ts';
