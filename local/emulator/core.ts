// The emulator's state and services, shared by every route module.
import type { Clock } from "../clock";
import { CreationCounter } from "./creations";
import { createSigningKey, type SigningKey } from "./entra/jwt";
import { Faults } from "./faults";
import { PROCESS_IDENTITY_HEADER } from "./identityEndpoint";
import { Operations } from "./lro";
import { Recorder } from "./record";
import { World } from "./store";
import { ResourceNotifications } from "./resourceNotifications";
import { ComputeWindows, TokenBuckets, type ThrottleConfig } from "./throttle";
import { GuidSequence, hashGuid } from "./util/rng";

export interface ReplicationScriptRule {
  gallery?: string;
  image?: string;
  version?: string;
  regionMinutes?: Record<string, number>;
  failRegions?: Record<string, string>;
}

export interface CoreConfig {
  seed: number;
  throttling: ThrottleConfig | false;
  replication: { minutesPerRegion: number; jitter: number };
  shareLimits: { maxSubscriptions: number; maxTenants: number };
  /** durationScale multiplies every operation's simulated duration (real-time runs scale minutes to seconds). */
  lro: { pollsToComplete: number; durationScale: number; retryAfterSeconds?: number; emptyShareResult?: boolean };
  tokenLifetimeSeconds: number;
}

export class Core {
  world = new World();
  readonly ops: Operations;
  readonly buckets: TokenBuckets | undefined;
  readonly windows: ComputeWindows | undefined;
  readonly faults: Faults;
  readonly recorder: Recorder;
  /** VM and scale-set creations whose operation is still running (see creations.ts). */
  readonly creations = new CreationCounter();
  readonly signingKey: SigningKey = createSigningKey();
  /** Secret for the App Service style managed-identity endpoint (`X-IDENTITY-HEADER`), one per process (see identityEndpoint.ts). */
  readonly identityHeader: string;
  /** Set once the server listens: https://127.0.0.1:PORT */
  baseUrl = "";
  /**
   * Real time each token was issued, by `uti`. Expiry is enforced against real time because SDK token
   * caches refresh on real time; enforcing simulated time would reject tokens the SDK rightly thinks
   * are fresh whenever a virtual clock jumps hours ahead.
   */
  readonly issuedTokens = new Map<string, { realIssuedAt: number; lifetimeMs: number }>();
  /** Azure Resource Notifications events the emulated writes emit (see resourceNotifications.ts). */
  readonly notifications: ResourceNotifications;
  /** Replication scripts for image versions written over HTTP (see EmulatorControl.scriptReplication). */
  replicationScripts: ReplicationScriptRule[] = [];
  private readonly sequences = new Map<string, GuidSequence>();

  constructor(
    readonly clock: Clock,
    readonly config: CoreConfig,
    recordPath: string | undefined,
  ) {
    this.ops = new Operations(clock, config.seed, config.lro.pollsToComplete, config.lro.durationScale);
    this.buckets = config.throttling ? new TokenBuckets(config.throttling, clock) : undefined;
    this.windows = config.throttling && config.throttling.computeWindows ? new ComputeWindows(clock) : undefined;
    this.faults = new Faults(config.seed);
    this.recorder = new Recorder(recordPath);
    this.identityHeader = PROCESS_IDENTITY_HEADER;
    this.notifications = new ResourceNotifications(clock, (op) => this.ops.settleOne(op, clock.now()));
  }

  /** Deterministic GUID for a named thing (same seed + same parts = same id). */
  guid(...parts: string[]): string {
    return hashGuid(this.config.seed, ...parts);
  }

  /** The next GUID of a sequence (request ids, token ids). */
  nextGuid(kind: string): string {
    let seq = this.sequences.get(kind);
    if (!seq) {
      seq = new GuidSequence(this.config.seed, kind);
      this.sequences.set(kind, seq);
    }
    return seq.next();
  }

  reset(): void {
    this.world = new World();
    this.ops.clear();
    this.buckets?.clear();
    this.windows?.clear();
    this.faults.clear();
    this.recorder.clear();
    this.creations.clear();
    this.replicationScripts = [];
    this.notifications.clear();
  }
}
