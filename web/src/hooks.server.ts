import { redirect, type Handle, type HandleServerError } from '@sveltejs/kit';
import { currentSession } from '$lib/server/auth';

/** Every page needs a signed-in technician except the sign-in flow itself. */
export const handle: Handle = async ({ event, resolve }) => {
  event.locals.session = await currentSession(event.cookies);
  if (event.locals.session === undefined && !event.url.pathname.startsWith('/auth/')) {
    redirect(303, `/auth/sign-in?returnTo=${encodeURIComponent(event.url.pathname + event.url.search)}`);
  }
  return resolve(event);
};

/** An unexpected failure shows no internals; its id is in the log line to match it with. */
export const handleError: HandleServerError = ({ error, event, status, message }) => {
  const traceId = crypto.randomUUID();
  if (status >= 500) {
    console.error(JSON.stringify({ level: 'error', traceId, path: event.url.pathname, err: String(error) }));
  }
  return { message, traceId };
};
