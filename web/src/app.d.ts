import type { DashboardSession } from '../server/session-cookie.ts';

declare global {
  namespace App {
    interface Locals {
      /** The signed-in technician; every page but sign-in has one (hooks.server.ts). */
      session: DashboardSession | undefined;
    }
    /** What an error page shows: an RFC 9457 problem's words, and its trace id to quote. */
    interface Error {
      message: string;
      title?: string;
      traceId?: string;
    }
  }
}

export {};
