import { fileURLToPath } from 'node:url';
import type { Router } from 'express';
import { effectiveAccessStore } from '@converge/access';
import { topics } from '@converge/contracts';
import { runService } from '@converge/runtime';
import { asTenantId, createSecretCipher } from '@converge/store';
import { config } from './config.ts';
import { AggregateWriter } from './data-access/aggregate-writer.ts';
import { AuditRepository, auditModel } from './data-access/audit.repository.ts';
import { directoryModels } from './data-access/directory.models.ts';
import { startDirectoryRelays } from './data-access/directory-relay.ts';
import {
  IntegrationRepository,
  integrationModels,
  PsaCompanyRepository,
} from './data-access/integration.repository.ts';
import { AccessRequestRepository, UserRepository, userModels } from './data-access/user.repository.ts';
import { auditRoutes } from './entry-points/http/audit.routes.ts';
import { recordAuditEntries } from './entry-points/kafka/audit-entries.consumer.ts';
import { integrationRoutes } from './entry-points/http/integrations.routes.ts';
import { peopleRoutes } from './entry-points/http/people.routes.ts';
import { psaAgreementRoutes } from './entry-points/http/psa-agreements.routes.ts';
import { tenantRoutes } from './entry-points/http/tenants.routes.ts';
import { userRoutes } from './entry-points/http/users.routes.ts';
import { startSyncSchedule } from './entry-points/schedule/sync-schedule.ts';
import { GroupUseCases } from './use-cases/groups.use-cases.ts';
import { IntegrationUseCases } from './use-cases/integrations.use-cases.ts';
import { PeopleUseCases } from './use-cases/people.use-cases.ts';
import { TenantUseCases } from './use-cases/tenants.use-cases.ts';
import { UserUseCases } from './use-cases/users.use-cases.ts';

await runService({
  name: 'sync',
  config,
  topics: [
    { topic: topics.directoryEvents, partitions: config.kafka.partitions },
    // Created here as well: sync reads it, and may start before deployments has made it.
    { topic: topics.auditEntries, partitions: config.kafka.partitions },
  ],
  start: async ({ logger, bus, mongo, redis }) => {
    const models = directoryModels(mongo);
    const writers = {
      tenants: new AggregateWriter(models.tenants),
      people: new AggregateWriter(models.people),
      groups: new AggregateWriter(models.groups),
      psaAgreements: new AggregateWriter(models.psaAgreements),
    };
    const { users: userModel, accessRequests: accessRequestModel } = userModels(mongo);
    const { integrations: integrationModel, psaCompanies: companyModel } = integrationModels(mongo);
    const users = new UserRepository(userModel);
    const accessRequests = new AccessRequestRepository(accessRequestModel);
    const companies = new PsaCompanyRepository(companyModel);
    const audit = new AuditRepository(auditModel(mongo));
    await Promise.all(Object.values(mongo.models).map((model) => model.init()));
    // Users and access requests were once keyed by the bare subject: drop those indexes (the unique one would
    // refuse a second invitation, which has no identity).
    await Promise.all([userModel.syncIndexes(), accessRequestModel.syncIndexes()]);

    const accessStore = effectiveAccessStore(redis, config.access.keyPrefix);
    const tenants = new TenantUseCases(writers.tenants, audit);
    const people = new PeopleUseCases(writers.people, audit);
    const groups = new GroupUseCases(writers.groups);
    const userUseCases = new UserUseCases({
      users,
      accessRequests,
      access: accessStore,
      audit,
      tenants,
      people,
    });
    const integrations = new IntegrationUseCases({
      integrations: new IntegrationRepository(integrationModel),
      companies,
      agreements: writers.psaAgreements,
      tenants: writers.tenants,
      people,
      groups,
      audit,
      secrets: createSecretCipher(config.integrationSecretsKey),
      redis,
      logger,
      sync: config.sync,
    });

    // Redis holds only what can be rebuilt (ARCHITECTURE.md §4): every start writes every user's access again.
    const rebuilt = await userUseCases.rebuildEffectiveAccess();
    logger.info({ users: rebuilt }, 'effective access rebuilt');

    const relays = startDirectoryRelays(models, bus, logger);
    const schedule = startSyncSchedule(integrations, config.sync.intervalMs, logger);
    const auditEntries = await recordAuditEntries(bus, `${config.mongo.databasePrefix}.sync.audit`, audit);

    return {
      // Written before the request runs: an impersonated request that cannot be audited does not run.
      onImpersonation: async ({ impersonator, principal, method, path }) => {
        await audit.record({
          tenantId: asTenantId(principal.tenantId ?? impersonator.tenantId ?? 'unknown'),
          actor: { subject: principal.subject, impersonatedBy: impersonator.subject },
          entityType: 'request',
          entityId: `${method} ${path}`,
          action: 'impersonated',
          at: new Date(),
        });
      },
      openApiDocument: fileURLToPath(new URL('./entry-points/http/openapi.yaml', import.meta.url)),
      routes: (router: Router) => {
        tenantRoutes(router, tenants, writers.tenants);
        peopleRoutes(router, people, groups, { people: writers.people, groups: writers.groups });
        psaAgreementRoutes(router, writers.psaAgreements);
        userRoutes(router, userUseCases, { users, accessRequests });
        integrationRoutes(router, integrations, { companies, tenants, audit });
        auditRoutes(router, audit);
      },
      stop: async () => {
        await schedule.stop();
        await auditEntries.stop();
        await Promise.all(relays.map((relay) => relay.stop()));
      },
    };
  },
});
