import { loadConfig, serviceConfig, serviceEnv } from '@converge/config';

/** The sessions service's environment: so far only the variables every service shares (@converge/config). */
export const config = loadConfig(serviceEnv.transform(serviceConfig));
