import type { Provider, ResourceServer } from 'oidc-provider';
import { errors } from 'oidc-provider';
import { apiAudience, apiScope, findDevUser, testUserGrantType } from './dev-accounts.ts';

/**
 * Dev-only token grant: tests cannot click through a login page, so the test client may ask
 * for a seeded user's access token by user name. Only clients registered with this grant
 * type (the dedicated test client) pass the token endpoint's grant_types check.
 */
export function registerTestUserGrant(provider: Provider, apiResource: ResourceServer): void {
  provider.registerGrantType<{ username?: string }>(
    testUserGrantType,
    async (ctx) => {
      const { client, params } = ctx.oidc;
      const user = params.username === undefined ? undefined : findDevUser(params.username);
      if (!user) throw new errors.InvalidGrant('unknown test user');

      const grant = new provider.Grant({ accountId: user.sub, clientId: client.clientId });
      grant.addResourceScope(apiAudience, apiScope);
      const grantId = await grant.save();

      const token = new provider.AccessToken({
        accountId: user.sub,
        client,
        grantId,
        gty: testUserGrantType,
        scope: apiScope,
        resourceServer: new provider.ResourceServer(apiAudience, apiResource),
      });
      ctx.body = {
        access_token: await token.save(),
        token_type: token.tokenType,
        expires_in: token.expiration,
        scope: apiScope,
      };
    },
    ['username'],
  );
}
