// The composition root: builds every service once from the validated settings and registers every
// function, orchestration and activity with the Functions runtime. Nothing else constructs an SDK
// client or calls app.* / df.app.*. The SDK clients are built (and their packages loaded) on first
// use, so a cold start pays only for what the first invocation needs.
import { app, type InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { createReadImageVersion } from "./activities/readImageVersion";
import { createApplyShareChanges } from "./activities/applyShareChanges";
import { createNotifyShareResults, createSubmitShareChange } from "./activities/shareCoordinatorMessages";
import { createEnsureAppReader, createEnsureGalleryReader, createRemoveRoleAssignment } from "./activities/readerRoles";
import { createFinishTenantRequest, createReadTenantGrants, createListWorkloadsToUpdate, createRecordTenantGrants, createRecordTenantWorkload, createRemoveTenantGrants } from "./activities/tenantRegistry";
import { createReadWorkload, createResolveWorkloadImage, createStartWorkload } from "./activities/provisionVm";
import { createNotifyWorkloadDone, createStartProvisioning } from "./activities/workloadMessages";
import { createAcquireCreationSlot, createReleaseCreationSlot } from "./activities/creationSlots";
import { createVerifyDirectShare } from "./activities/verifyDirectShare";
import { createVerifyCommunityVersion } from "./activities/verifyCommunityVersion";
import { createCreateConsentRequest, createVerifyRbacAccess } from "./activities/rbacOnboarding";
import { createConsentCallback, createConsentPage } from "./functions/consentPages";
import { createConsentVerifier, markConsentUsed } from "./functions/consentVerifier";
import { createRecordShareAudit } from "./activities/recordShareAudit";
import { createSendOutcomeEvent } from "./activities/sendOutcomeEvent";
import {
  applyShareChanges,
  createConsentRequest,
  ensureAppReader,
  ensureGalleryReader,
  finishTenantRequest,
  notifyShareResults,
  readImageVersion,
  readTenantGrants,
  recordShareAudit,
  acquireCreationSlot,
  listWorkloadsToUpdate,
  releaseCreationSlot,
  notifyWorkloadDone,
  startProvisioning,
  readWorkload,
  resolveWorkloadImage,
  startWorkload,
  recordTenantGrants,
  recordTenantWorkload,
  removeRoleAssignment,
  removeTenantGrants,
  sendOutcomeEvent,
  submitShareChange,
  verifyDirectShare,
  verifyCommunityVersion,
  verifyRbacAccess,
  type ActivityDescriptor,
  type ActivityResult,
} from "./activities/descriptors";
import { loadConfig } from "./config";
import { createServices, type Services } from "./services";
import { getStatus, GET_STATUS } from "./functions/getStatus";
import { createGetRequest, createGetTenant, createListTenants } from "./functions/registryQueries";
import type * as ImageVersionEvents from "./functions/imageVersionEvents";
import type * as SubmitTenantRequest from "./functions/submitTenantRequest";
import type * as TenantRequests from "./functions/tenantRequests";
import { offboardTenant, OFFBOARD_TENANT } from "./orchestrations/offboardTenant";
import { onboardTenant, ONBOARD_TENANT } from "./orchestrations/onboardTenant";
import { provisionVm, PROVISION_VM } from "./orchestrations/provisionVm";
import { publishImageVersion, PUBLISH_IMAGE_VERSION } from "./orchestrations/publishImageVersion";
import { shareCoordinator, SHARE_COORDINATOR } from "./orchestrations/shareCoordinator";

export const IMAGE_VERSION_EVENTS = "imageVersionEvents";
export const SUBMIT_ONBOARDING = "submitOnboarding";
export const SUBMIT_OFFBOARDING = "submitOffboarding";
export const TENANT_REQUESTS = "tenantRequests";

/** The services of the running app; they exist from the appStart hook until appTerminate. */
type CurrentServices = () => Services;

/**
 * Registers an activity under its descriptor's name; the handler is made from the running app's
 * services. `withClient`: the activity gets the durable client (to start or signal orchestrations).
 */
function registerActivity<I, O>(
  services: CurrentServices,
  activity: ActivityDescriptor<I, O>,
  create: (services: Services) => (input: I, context: InvocationContext) => Promise<ActivityResult<O>>,
  options: { withClient?: boolean } = {},
): void {
  df.app.activity(activity.name, {
    ...(options.withClient ? { extraInputs: [df.input.durableClient()] } : {}),
    handler: (input: I, context: InvocationContext) => create(services())(input, context),
  });
}

function registerFunctions(services: CurrentServices): void {
  app.eventGrid(IMAGE_VERSION_EVENTS, {
    extraInputs: [df.input.durableClient()],
    handler: async (event, context) => {
      // The event parser (and zod with it) loads with the first event, not at cold start.
      const { createImageVersionEventHandler }: typeof ImageVersionEvents = await import("./functions/imageVersionEvents.js");
      await createImageVersionEventHandler(services().config)(event, context);
    },
  });
  app.http(GET_STATUS, {
    route: "status/{instanceId}",
    methods: ["GET"],
    authLevel: "function",
    extraInputs: [df.input.durableClient()],
    handler: getStatus,
  });

  for (const [name, route, schema] of [
    [SUBMIT_ONBOARDING, "onboarding", "onboarding/v1"],
    [SUBMIT_OFFBOARDING, "offboarding", "offboarding/v1"],
  ] as const) {
    app.http(name, {
      route,
      methods: ["POST"],
      authLevel: "function",
      handler: async (request, context) => {
        // Like the event parser, the request schemas (zod) load with the first request.
        const { createSubmitTenantRequest }: typeof SubmitTenantRequest = await import("./functions/submitTenantRequest.js");
        return createSubmitTenantRequest(services().tenantRequests, schema)(request, context);
      },
    });
  }

  // What the registry knows: tenants, their grants, and every request.
  for (const [name, route, create] of [
    ["listTenants", "tenants", createListTenants],
    ["getTenant", "tenants/{tenantId}", createGetTenant],
    ["getRequest", "requests/{requestId}", createGetRequest],
  ] as const) {
    app.http(name, { route, methods: ["GET"], authLevel: "function", handler: (request, context) => create(services().registry)(request, context) });
  }

  // Admin consent (rbac mode): anonymous, because a customer's administrator's browser lands here.
  app.http("consentPage", {
    route: "consent/{requestId:guid}",
    methods: ["GET"],
    authLevel: "anonymous",
    handler: (request, context) => {
      const { config, registry } = services();
      return createConsentPage({ registry, publisherName: config.consent.publisherName, appName: "gallery-share", appId: config.crossTenant?.appId ?? "", consentUrlFor: (t) => t.consent?.url })(request, context);
    },
  });
  app.http("consentCallback", {
    route: "consent/callback",
    methods: ["GET"],
    authLevel: "anonymous",
    extraInputs: [df.input.durableClient()],
    handler: (request, context) => {
      const client = df.getClient(context);
      const verify = createConsentVerifier(services);
      let verified: { tenantId: string; requestId: string } | undefined;
      return createConsentCallback({
        verify: async (query) => {
          const verdict = await verify(query);
          if (verdict.ok) verified = { tenantId: verdict.tenantId, requestId: verdict.requestId };
          return verdict;
        },
        // Tell the orchestration, then mark the consent used: a failure in between repeats it, never loses it.
        raise: async (instanceId, eventName, data) => {
          await client.raiseEvent(instanceId, eventName, data);
          if (verified) await markConsentUsed(services(), verified.tenantId, verified.requestId);
        },
      })(request, context);
    },
  });

  // Onboarding and offboarding requests from the queue (POST /api/onboarding puts them there).
  app.serviceBusQueue(TENANT_REQUESTS, {
    connection: "ServiceBusConnection",
    queueName: "%ONBOARDING_QUEUE_NAME%",
    extraInputs: [df.input.durableClient()],
    handler: async (message, context) => {
      const { createTenantRequestHandler }: typeof TenantRequests = await import("./functions/tenantRequests.js");
      await createTenantRequestHandler(services)(message, context);
    },
  });

  df.app.orchestration(PUBLISH_IMAGE_VERSION, publishImageVersion);
  df.app.orchestration(ONBOARD_TENANT, onboardTenant);
  df.app.orchestration(OFFBOARD_TENANT, offboardTenant);
  df.app.orchestration(SHARE_COORDINATOR, shareCoordinator);
  df.app.orchestration(PROVISION_VM, provisionVm);

  registerActivity(services, readImageVersion, createReadImageVersion);
  registerActivity(services, applyShareChanges, createApplyShareChanges);
  registerActivity(services, submitShareChange, createSubmitShareChange, { withClient: true });
  registerActivity(services, notifyShareResults, createNotifyShareResults, { withClient: true });
  registerActivity(services, ensureGalleryReader, createEnsureGalleryReader);
  registerActivity(services, ensureAppReader, createEnsureAppReader);
  registerActivity(services, removeRoleAssignment, createRemoveRoleAssignment);
  registerActivity(services, verifyDirectShare, createVerifyDirectShare);
  registerActivity(services, recordTenantGrants, createRecordTenantGrants);
  registerActivity(services, removeTenantGrants, createRemoveTenantGrants);
  registerActivity(services, readTenantGrants, createReadTenantGrants);
  registerActivity(services, finishTenantRequest, createFinishTenantRequest);
  registerActivity(services, createConsentRequest, createCreateConsentRequest);
  registerActivity(services, verifyRbacAccess, createVerifyRbacAccess);
  registerActivity(services, verifyCommunityVersion, createVerifyCommunityVersion);
  registerActivity(services, resolveWorkloadImage, createResolveWorkloadImage);
  registerActivity(services, startWorkload, createStartWorkload);
  registerActivity(services, readWorkload, createReadWorkload);
  registerActivity(services, recordTenantWorkload, createRecordTenantWorkload);
  registerActivity(services, listWorkloadsToUpdate, createListWorkloadsToUpdate);
  registerActivity(services, startProvisioning, createStartProvisioning, { withClient: true });
  registerActivity(services, acquireCreationSlot, createAcquireCreationSlot);
  registerActivity(services, releaseCreationSlot, createReleaseCreationSlot);
  registerActivity(services, notifyWorkloadDone, createNotifyWorkloadDone, { withClient: true });
  registerActivity(services, recordShareAudit, createRecordShareAudit);
  registerActivity(services, sendOutcomeEvent, createSendOutcomeEvent);
}

/**
 * Registers the app with the Functions runtime. The settings are validated now, while the host
 * loads the app, so a missing or invalid one stops start-up with a message naming it instead of
 * failing the first event; the services are built when the app starts (the appStart hook) from the
 * settings the host set, and dropped when it terminates.
 */
export function startApp(): void {
  loadConfig(process.env);
  let running: Services | undefined;
  app.hook.appStart(() => {
    running = createServices(loadConfig(process.env));
  });
  app.hook.appTerminate(() => {
    running = undefined;
  });
  registerFunctions(() => {
    if (!running) throw new Error("the app has not started: its services are built by the appStart hook");
    return running;
  });
}
