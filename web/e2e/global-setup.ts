import { startLocalDashboard } from './local-dashboard.ts';

export default async function globalSetup(): Promise<() => Promise<void>> {
  const dashboard = await startLocalDashboard();
  return () => dashboard.stop();
}
