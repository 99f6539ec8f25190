import { bool, csv, duration, loadConfig, serviceConfig, serviceEnv, z } from '@converge/config';
import { canonicalHardwareUuid } from './domain/hardware-identifiers.ts';

/**
 * The identity service's environment: the shared variables (@converge/config) and the identification policy of
 * the installation.
 */
export const config = loadConfig(
  serviceEnv
    .extend({
      // Hardware UUIDs treated as none, on top of the built-in blank and placeholder ones (comma-separated).
      IDENTITY_KNOWN_BAD_HARDWARE_UUIDS: csv()
        .refine((uuids) => uuids.every((uuid) => canonicalHardwareUuid(uuid) !== null), {
          error: 'must list hardware UUIDs (32 hexadecimal digits each)',
        })
        .default([]),
      // Manufacturers whose serial numbers identify a machine when it has no usable UUID (comma-separated).
      IDENTITY_TRUSTED_MANUFACTURERS: csv().default([
        'Dell Inc.',
        'HP',
        'Hewlett-Packard',
        'LENOVO',
        'Microsoft Corporation',
        'Apple Inc.',
      ]),
      // Off: new and wiped computers are onboarded at once, whatever their tenant's setting says.
      IDENTITY_ONBOARDING_ENABLED: bool().default(true),
      // A computer offline for longer is stale: listed as such and without an inferred primary person.
      IDENTITY_STALE_AFTER_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
      // Partitions handled at once, by the router of agent events and by the owner of computers each.
      IDENTITY_CONSUMER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
      // How long a technician's change waits for the computer's owner to apply it before it is answered 202.
      IDENTITY_REQUEST_TIMEOUT: duration().default(5_000),
      // Computers an owner process keeps in memory (about 3 KB each); others are read again when needed.
      IDENTITY_HELD_COMPUTERS: z.coerce.number().int().min(1).default(200_000),
    })
    .transform((env) => ({
      ...serviceConfig(env),
      identification: {
        extraKnownBadHardwareUuids: env.IDENTITY_KNOWN_BAD_HARDWARE_UUIDS,
        trustedManufacturers: env.IDENTITY_TRUSTED_MANUFACTURERS,
        onboardingEnabledGlobally: env.IDENTITY_ONBOARDING_ENABLED,
      },
      staleAfterDays: env.IDENTITY_STALE_AFTER_DAYS,
      consumer: {
        concurrency: env.IDENTITY_CONSUMER_CONCURRENCY,
        // One consumer group per installation database, so a second installation on the same broker
        // (or a test run) reads every event itself.
        groupPrefix: `${env.MONGO_DATABASE_PREFIX}.identity`,
      },
      requestTimeoutMs: env.IDENTITY_REQUEST_TIMEOUT,
      heldComputers: env.IDENTITY_HELD_COMPUTERS,
    })),
);

export type IdentityConfig = typeof config;
