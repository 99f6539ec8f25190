import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { decodeJwt, importJWK, SignJWT, type JWK, type JWTPayload } from 'jose';

// The dev provider keeps its signing key in the stack's state directory (scripts/stack.sh). Signing
// with it is the only way to make a token that fails for its claims rather than its signature.
const stackDir = process.env.CONVERGE_STACK_DIR ?? fileURLToPath(new URL('../../../.stack', import.meta.url));

async function providerSigningKey(): Promise<{ key: Awaited<ReturnType<typeof importJWK>>; kid: string }> {
  const jwks = JSON.parse(await readFile(`${stackDir}/data/oidc/jwks.json`, 'utf8')) as { keys: JWK[] };
  const jwk = jwks.keys[0];
  if (jwk?.kid === undefined) throw new Error('the dev provider has no signing key');
  return { key: await importJWK(jwk, 'RS256'), kid: jwk.kid };
}

/** Re-signs the claims of a real token, changed by `change`, with the provider's own key. */
export async function resignedToken(
  realToken: string,
  change: (claims: JWTPayload) => JWTPayload,
): Promise<string> {
  const { key, kid } = await providerSigningKey();
  return new SignJWT(change(decodeJwt(realToken)))
    .setProtectedHeader({ alg: 'RS256', kid, typ: 'at+jwt' })
    .sign(key);
}
