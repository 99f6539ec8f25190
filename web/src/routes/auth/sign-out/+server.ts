import { redirect } from '@sveltejs/kit';
import { signOut } from '$lib/server/auth';
import type { RequestHandler } from './$types';

// A form post, not a link: a page elsewhere cannot sign the technician out with an image tag.
export const POST: RequestHandler = async ({ cookies }) => {
  redirect(303, await signOut(cookies));
};
