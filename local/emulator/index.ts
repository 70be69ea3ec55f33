// Azure double for gallery-share: ARM (Microsoft.Compute galleries, shared galleries, VMs, scale
// sets, Microsoft.Network NICs, Microsoft.Authorization role assignments) and Entra ID on one loopback
// HTTPS server, driven by the real Azure SDKs. See README.md beside this file.
import { VirtualClock, WallClock, type Clock } from "../clock";
import { communityGalleryRoutes } from "./arm/communityGalleries";
import { galleryRoutes } from "./arm/galleries";
import { networkRoutes } from "./arm/network";
import { operationRoutes } from "./arm/operations";
import { resourceRoutes } from "./arm/resources";
import { roleAssignmentRoutes } from "./arm/roleAssignments";
import { sharedGalleryRoutes } from "./arm/sharedGalleries";
import { sharingRoutes } from "./arm/sharing";
import { vmRoutes } from "./arm/vms";
import { vmssRoutes } from "./arm/vmss";
import type { Ctx } from "./context";
import { createControl, type EmulatorControl } from "./control";
import { controlRoutes } from "./controlRoutes";
import { Core, type CoreConfig } from "./core";
import { entraRoutes } from "./entra/routes";
import { eventGridRoutes } from "./eventgrid";
import { registerIdentityHolder, sharedIdentityEndpoint } from "./identityEndpoint";
import { Router } from "./router";
import { startServer } from "./server";
import { DEFAULT_THROTTLE, type BucketConfig } from "./throttle";
import { createTlsMaterial, trustInProcess } from "./tls";

export type { EmulatorControl } from "./control";

export interface EmulatorOptions {
  /** 0 (default) = any free port; the server binds 127.0.0.1 only. */
  port?: number;
  /** Default WallClock(1). Replication, operation durations, throttling refill and token times follow it. */
  clock?: Clock;
  /** Seeds every id, jitter and probability: the same seed and calls repeat exactly. Default 1. */
  seed?: number;
  /** JSON Lines recording of every exchange; default process.env.EMULATOR_RECORD. */
  recordPath?: string;
  /** Default true: add the CA to this process's default trust store (Node >= 22.19). TLS verification is never disabled. */
  trustInProcess?: boolean;
  /** ARM token buckets per subscription + principal (and Compute's per-operation windows); false disables both. */
  throttling?: { reads?: BucketConfig; writes?: BucketConfig; computeWindows?: boolean } | false;
  /** Per-region replication time: minutesPerRegion × (1 ± jitter), seeded. Default 45 min ± 1/3 (30-60 min). */
  replication?: { minutesPerRegion?: number; jitter?: number };
  /** Direct sharing limits per gallery. Default 30 subscriptions, 5 tenants. */
  shareLimits?: { maxSubscriptions: number; maxTenants: number };
  /**
   * Long-running operations (other than replication) complete after their simulated duration or
   * after `pollsToComplete` status polls, whichever is first (default 1). `retryAfterSeconds` adds
   * Retry-After to LRO answers (default none: SDK pollers then wait their own interval).
   * `emptyShareResult` answers the share POST's final `location` poll with 200 and an empty body,
   * as Azure CLI's 2021 recordings show (the swagger declares a SharingUpdate body there).
   * `durationScale` multiplies every simulated duration (a VM create's 90 s, say; default 1), for
   * worlds on real time such as the real-engine conformance suite.
   */
  lro?: { pollsToComplete?: number; retryAfterSeconds?: number; emptyShareResult?: boolean; durationScale?: number };
  /** Access token lifetime in (real) seconds; default 3599. */
  tokenLifetimeSeconds?: number;
  /** Seeds the world at start and again after every reset(). */
  world?: (control: EmulatorControl) => void;
  /** Folder for ca.pem; default a fresh temp folder. */
  stateDir?: string;
}

export interface Emulator {
  /** https://127.0.0.1:PORT — the ARM endpoint. */
  readonly url: string;
  readonly armEndpoint: string;
  /** Same server: https://127.0.0.1:PORT (tenants live at /{tenantId}). */
  readonly authorityHost: string;
  readonly caCertPem: string;
  /** PEM file of the CA, for NODE_EXTRA_CA_CERTS in other processes. */
  readonly caFile: string;
  /**
   * App Service style IDENTITY_ENDPOINT, shared by every emulator in this process (plain http on
   * loopback, as the platform serves it; see identityEndpoint.ts). `${url}/msi/token` answers the same.
   */
  readonly identityEndpoint: string;
  /** IDENTITY_HEADER for either endpoint (one value per process). */
  readonly identityHeader: string;
  readonly clock: Clock;
  readonly control: EmulatorControl;
  close(): Promise<void>;
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const clock = options.clock ?? new WallClock(1);
  const throttling =
    options.throttling === false
      ? false
      : {
          reads: options.throttling?.reads ?? DEFAULT_THROTTLE.reads,
          writes: options.throttling?.writes ?? DEFAULT_THROTTLE.writes,
          computeWindows: options.throttling?.computeWindows ?? DEFAULT_THROTTLE.computeWindows,
        };
  const config: CoreConfig = {
    seed: options.seed ?? 1,
    throttling,
    replication: { minutesPerRegion: options.replication?.minutesPerRegion ?? 45, jitter: options.replication?.jitter ?? 1 / 3 },
    shareLimits: options.shareLimits ?? { maxSubscriptions: 30, maxTenants: 5 },
    lro: {
      pollsToComplete: options.lro?.pollsToComplete ?? 1,
      durationScale: options.lro?.durationScale ?? 1,
      ...(options.lro?.retryAfterSeconds !== undefined ? { retryAfterSeconds: options.lro.retryAfterSeconds } : {}),
      ...(options.lro?.emptyShareResult ? { emptyShareResult: true } : {}),
    },
    tokenLifetimeSeconds: options.tokenLifetimeSeconds ?? 3599,
  };
  const recordPath = options.recordPath ?? (process.env.EMULATOR_RECORD || undefined);
  const core = new Core(clock, config, recordPath);
  const tlsMaterial = await createTlsMaterial(options.stateDir);
  const seedWorld = options.world ?? (() => undefined);
  const control = createControl(core, seedWorld);

  const router = new Router<Ctx>();
  const virtualClock = clock instanceof VirtualClock ? clock : undefined;
  const identityEndpoint = await sharedIdentityEndpoint();
  router.addAll(
    controlRoutes(
      control,
      () => ({ url: core.baseUrl, authorityHost: core.baseUrl, caFile: tlsMaterial.caFile, identityEndpoint, identityHeader: core.identityHeader }),
      virtualClock,
    ),
  );
  router.addAll(eventGridRoutes());
  router.addAll(operationRoutes());
  router.addAll(sharingRoutes());
  router.addAll(sharedGalleryRoutes());
  router.addAll(communityGalleryRoutes());
  router.addAll(galleryRoutes());
  router.addAll(vmRoutes());
  router.addAll(vmssRoutes());
  router.addAll(networkRoutes());
  router.addAll(roleAssignmentRoutes());
  router.addAll(resourceRoutes());
  router.addAll(entraRoutes());

  const server = await startServer(core, router, tlsMaterial, options.port ?? 0);
  core.baseUrl = `https://127.0.0.1:${server.port}`;
  const untrust = options.trustInProcess === false ? undefined : trustInProcess(tlsMaterial.caCertPem);
  seedWorld(control);
  const unregisterIdentities = registerIdentityHolder({ core, caCertPem: tlsMaterial.caCertPem });

  let closed = false;
  return {
    url: core.baseUrl,
    armEndpoint: core.baseUrl,
    authorityHost: core.baseUrl,
    caCertPem: tlsMaterial.caCertPem,
    caFile: tlsMaterial.caFile,
    identityEndpoint,
    identityHeader: core.identityHeader,
    clock,
    control,
    async close() {
      if (closed) return;
      closed = true;
      unregisterIdentities();
      await server.close();
      untrust?.();
      tlsMaterial.cleanup();
    },
  };
}
