import { error, redirect } from '@sveltejs/kit';
import { completeSignIn } from '$lib/server/auth';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async ({ cookies, url }) => {
  let returnTo: string;
  try {
    returnTo = await completeSignIn(cookies, url);
  } catch (cause) {
    error(400, {
      title: 'Sign-in failed',
      message: cause instanceof Error ? cause.message : 'sign-in failed',
    });
  }
  redirect(303, returnTo);
};
