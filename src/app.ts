// The app's entry point (package.json "main") and composition root: validates the settings, has
// every service built once when the app starts (src/services.ts), and registers every function,
// orchestration and activity with the Functions runtime. Nothing imports it, and nothing else calls
// app.* / df.app.*. The SDK clients are built (and their packages loaded) on first use, so a cold
// start pays only for what the first invocation needs.
import { app, type HttpRequest, type HttpResponse, type InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { createActivities } from "./activities";
import { usesDurableClient } from "./activities/activity";
import { createConsentCallback, createConsentPage } from "./functions/consentPages";
import { createConsentVerifier, markConsentUsed, releaseConsentClaim } from "./functions/consentVerifier";
import { loadConfig } from "./config";
import { createServices, type Services } from "./services";
import { getStatus, GET_STATUS } from "./functions/getStatus";
import { createGetRequest, createGetTenant, createListTenants } from "./functions/registryQueries";
import type * as ImageVersionEvents from "./functions/imageVersionEvents";
import type * as SubmitTenantRequest from "./functions/submitTenantRequest";
import type * as TenantRequests from "./functions/tenantRequests";
import {
  OFFBOARD_TENANT,
  ONBOARD_TENANT,
  PROVISION_WORKLOAD,
  PUBLISH_IMAGE_VERSION,
  RECONCILE,
  REVOKE_IMAGE_VERSION,
  SHARE_COORDINATOR,
} from "./domain/orchestrationNames";
import { getDrift, postReconcile, retryPublish, startReconcile } from "./functions/reconcileApi";
import { offboardTenant } from "./orchestrations/offboardTenant";
import { onboardTenant } from "./orchestrations/onboardTenant";
import { provisionWorkload } from "./orchestrations/provisionWorkload";
import { publishImageVersion } from "./orchestrations/publishImageVersion";
import { reconcile } from "./orchestrations/reconcile";
import { revokeImageVersion } from "./orchestrations/revokeImageVersion";
import { getVersion, revokeVersion, setTenantRing } from "./functions/versionsApi";
import { getMe, getOverview, getTenantDetail, operatorAction } from "./functions/operatorApi";
import { dashboardAsset, dashboardPage } from "./functions/dashboardPage";
import { newConsentLinkAction, offboardTenantAction, onboardTenantAction } from "./functions/operatorTenantActions";
import { shareCoordinator } from "./orchestrations/shareCoordinator";

const IMAGE_VERSION_EVENTS = "imageVersionEvents";
const SUBMIT_ONBOARDING = "submitOnboarding";
const SUBMIT_OFFBOARDING = "submitOffboarding";
const TENANT_REQUESTS = "tenantRequests";

/** The services of the running app; they exist from the appStart hook until appTerminate. */
type CurrentServices = () => Services;

function registerFunctions(services: CurrentServices): void {
  registerTriggers(services);
  registerApi(services);
  registerConsent(services);
  registerReconcile(services);
  registerRollouts(services);
  registerOperator(services);
  df.app.orchestration(PUBLISH_IMAGE_VERSION, publishImageVersion);
  df.app.orchestration(ONBOARD_TENANT, onboardTenant);
  df.app.orchestration(OFFBOARD_TENANT, offboardTenant);
  df.app.orchestration(SHARE_COORDINATOR, shareCoordinator);
  df.app.orchestration(PROVISION_WORKLOAD, provisionWorkload);
}

/** What starts the work: image version events (Event Grid) and tenant requests (the queue). */
function registerTriggers(services: CurrentServices): void {
  app.eventGrid(IMAGE_VERSION_EVENTS, {
    extraInputs: [df.input.durableClient()],
    handler: async (event, context) => {
      // The event parser (and zod with it) loads with the first event, not at cold start.
      const { createImageVersionEventHandler }: typeof ImageVersionEvents = await import("./functions/imageVersionEvents.js");
      await createImageVersionEventHandler(services().config)(event, context);
    },
  });
  // Onboarding and offboarding requests from the queue (POST /api/onboarding puts them there).
  app.serviceBusQueue(TENANT_REQUESTS, {
    connection: "ServiceBusConnection",
    queueName: "%ONBOARDING_QUEUE_NAME%",
    extraInputs: [df.input.durableClient()],
    handler: async (message, context) => {
      const { createTenantRequestHandler }: typeof TenantRequests = await import("./functions/tenantRequests.js");
      await createTenantRequestHandler(services())(message, context);
    },
  });
}

/** The HTTP API for machine callers (function keys): status, requests, and what the registry knows. */
function registerApi(services: CurrentServices): void {
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
        const { tenantRequests, config } = services();
        return createSubmitTenantRequest(tenantRequests, schema, config.galleryIds)(request, context);
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
}

/**
 * The operator dashboard and its API: anonymous at the Functions level, because App Service
 * Authentication signs operators in (OPERATOR_SIGN_IN=easyauth); every route checks the app roles.
 */
function registerOperator(services: CurrentServices): void {
  const client = (context: InvocationContext) => df.getClient(context);
  const versionTarget = (r: HttpRequest): string => `/versions/${r.params.versionId ?? ""}`;
  const tenantTarget = (r: HttpRequest): string => `/tenants/${r.params.tenantId ?? ""}`;
  const routes: ReadonlyArray<readonly [string, string, "GET" | "POST" | "PUT", (r: HttpRequest, c: InvocationContext) => Promise<HttpResponse>]> = [
    ["dashboard", "dashboard", "GET", (r) => dashboardPage(services().config, r)],
    ["dashboardAsset", "dashboard/{asset}", "GET", (r) => dashboardAsset(services().config, r)],
    ["opsMe", "ops/me", "GET", (r, c) => getMe(services())(r, c)],
    ["opsOverview", "ops/overview", "GET", (r, c) => getOverview(services(), client)(r, c)],
    ["opsTenant", "ops/tenants/{tenantId}", "GET", (r, c) => getTenantDetail(services(), client)(r, c)],
    [
      "opsRetryPublish",
      "ops/versions/{versionId}/retry",
      "POST",
      (r, c) =>
        operatorAction(services(), "retry publish", versionTarget, (req, ctx) => retryPublish(client(ctx), `publish-${req.params.versionId ?? ""}`, ctx))(r, c),
    ],
    [
      "opsRevokeVersion",
      "ops/versions/{versionId}/revoke",
      "POST",
      (r, c) => operatorAction(services(), "revoke version", versionTarget, (req, ctx) => revokeVersion(client(ctx), services(), req, ctx))(r, c),
    ],
    [
      "opsOnboard",
      "ops/tenants/onboard",
      "POST",
      (r, c) =>
        operatorAction(
          services(),
          "onboard tenant",
          () => "/tenants",
          (req, ctx) => onboardTenantAction(services(), req, ctx),
        )(r, c),
    ],
    [
      "opsOffboard",
      "ops/tenants/{tenantId}/offboard",
      "POST",
      (r, c) => operatorAction(services(), "offboard tenant", tenantTarget, (req, ctx) => offboardTenantAction(services(), req, ctx))(r, c),
    ],
    [
      "opsConsentLink",
      "ops/tenants/{tenantId}/consent-link",
      "POST",
      (r, c) => operatorAction(services(), "new consent link", tenantTarget, (req, ctx) => newConsentLinkAction(services(), req, ctx))(r, c),
    ],
    [
      "opsSetRing",
      "ops/tenants/{tenantId}/ring",
      "PUT",
      (r, c) => operatorAction(services(), "change ring", tenantTarget, (req, ctx) => setTenantRing(services(), req, ctx))(r, c),
    ],
    [
      "opsReconcile",
      "ops/reconcile",
      "POST",
      (r, c) =>
        operatorAction(
          services(),
          "reconcile now",
          () => "reconcile",
          (_req, ctx) => postReconcile(client(ctx), services().config, ctx),
        )(r, c),
    ],
  ];
  for (const [name, route, method, handler] of routes) {
    app.http(name, { route, methods: [method], authLevel: "anonymous", extraInputs: [df.input.durableClient()], handler });
  }
}

/** Safe rollouts: a version's rollout and revocation, and a tenant's ring. */
function registerRollouts(services: CurrentServices): void {
  const api = [
    ["getVersion", "versions/{versionId}", "GET", (r: HttpRequest, c: InvocationContext) => getVersion(df.getClient(c), services(), r)],
    ["revokeVersion", "versions/{versionId}/revoke", "POST", (r: HttpRequest, c: InvocationContext) => revokeVersion(df.getClient(c), services(), r, c)],
    ["setTenantRing", "tenants/{tenantId}/ring", "PUT", (r: HttpRequest, c: InvocationContext) => setTenantRing(services(), r, c)],
  ] as const;
  for (const [name, route, method, handler] of api) {
    app.http(name, { route, methods: [method], authLevel: "function", extraInputs: [df.input.durableClient()], handler });
  }
  df.app.orchestration(REVOKE_IMAGE_VERSION, revokeImageVersion);
}

/** Self-healing: the reconciler on its schedule and on request, its drift report, and re-running a failed publish. */
function registerReconcile(services: CurrentServices): void {
  app.timer("reconcileTimer", {
    schedule: "%RECONCILE_SCHEDULE%",
    extraInputs: [df.input.durableClient()],
    handler: async (_timer, context) => {
      const { started } = await startReconcile(df.getClient(context), services().config);
      context.log(`reconcile: ${started ? "started" : "already running"}`);
    },
  });
  const api = [
    [
      "reconcileNow",
      "reconcile",
      "POST",
      (request: HttpRequest, context: InvocationContext) => postReconcile(df.getClient(context), services().config, context),
    ],
    ["getDrift", "drift", "GET", (_request: HttpRequest, context: InvocationContext) => getDrift(df.getClient(context))],
    [
      "retryPublish",
      "publishes/{instanceId}/retry",
      "POST",
      (request: HttpRequest, context: InvocationContext) => retryPublish(df.getClient(context), request.params.instanceId ?? "", context),
    ],
  ] as const;
  for (const [name, route, method, handler] of api) {
    app.http(name, { route, methods: [method], authLevel: "function", extraInputs: [df.input.durableClient()], handler });
  }
  df.app.orchestration(RECONCILE, reconcile);
}

/** Admin consent (rbac mode): anonymous, because a customer's administrator's browser lands here. */
function registerConsent(services: CurrentServices): void {
  app.http("consentPage", {
    route: "consent/{requestId:guid}",
    methods: ["GET"],
    authLevel: "anonymous",
    handler: (request, context) => {
      const { config, registry } = services();
      return createConsentPage({
        registry,
        publisherName: config.consent.publisherName,
        appName: config.consent.appName,
        appId: config.crossTenant?.appId ?? "",
        consentUrlFor: (t) => t.consent?.url,
      })(request, context);
    },
  });
  app.http("consentCallback", {
    route: "consent/callback",
    methods: ["GET"],
    authLevel: "anonymous",
    extraInputs: [df.input.durableClient()],
    handler: (request, context) => {
      const client = df.getClient(context);
      const verify = createConsentVerifier(services());
      let verified: { tenantId: string; requestId: string } | undefined;
      return createConsentCallback({
        verify: async (query) => {
          const verdict = await verify(query);
          if (verdict.ok) verified = { tenantId: verdict.tenantId, requestId: verdict.requestId };
          return verdict;
        },
        // verify claimed the consent; tell the orchestration, then mark it used. When telling fails, the
        // claim is given back, so the administrator's retry is not refused.
        raise: async (instanceId, eventName, data) => {
          try {
            await client.raiseEvent(instanceId, eventName, data);
          } catch (err) {
            if (verified) await releaseConsentClaim(services(), verified.tenantId, verified.requestId);
            throw err;
          }
          if (verified) await markConsentUsed(services(), verified.tenantId, verified.requestId);
        },
      })(request, context);
    },
  });
}

/**
 * Registers every activity under its key in the activity map. The map is made now, over a view of
 * the services that reads the running app's services when an activity runs (see
 * src/activities/index.ts); an activity that starts orchestrations or raises events gets the
 * durable client input.
 */
function registerActivities(services: CurrentServices): void {
  const view = new Proxy({} as Services, { get: (_target, key) => services()[key as keyof Services] });
  for (const [name, activity] of Object.entries(createActivities(view))) {
    df.app.activity(name, {
      ...(usesDurableClient(activity) ? { extraInputs: [df.input.durableClient()] } : {}),
      handler: (input: unknown, context: InvocationContext) => (activity as (input: unknown, context: InvocationContext) => Promise<unknown>)(input, context),
    });
  }
}

/**
 * Registers the app with the Functions runtime. The settings are validated now, while the host
 * loads the app, so a missing or invalid one stops start-up with a message naming it instead of
 * failing the first event; the services are built when the app starts (the appStart hook) from the
 * settings the host set, and dropped when it terminates.
 */
function startApp(): void {
  loadConfig(process.env);
  let running: Services | undefined;
  app.hook.appStart(() => {
    running = createServices(loadConfig(process.env));
  });
  app.hook.appTerminate(() => {
    running = undefined;
  });
  const services = (): Services => {
    if (!running) throw new Error("the app has not started: its services are built by the appStart hook");
    return running;
  };
  registerFunctions(services);
  registerActivities(services);
}

startApp();
