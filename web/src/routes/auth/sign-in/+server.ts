import { redirect } from '@sveltejs/kit';
import { beginSignIn } from '$lib/server/auth';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async ({ cookies, url }) => {
  const authorization = await beginSignIn(cookies, url.searchParams.get('returnTo') ?? '/');
  redirect(303, authorization.href);
};
