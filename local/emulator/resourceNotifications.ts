// Azure Resource Notifications (preview), as the emulator emits them: one
// Microsoft.ResourceNotifications.Resources.CreatedOrUpdated event, in the Event Grid schema of
// Microsoft's sample (specs/eventgrid/.../Resources_CreatedOrUpdated.json), when a write to a
// gallery image version succeeds: the documentation matches these events to ARM's
// ResourceWriteSuccess, and a version's write succeeds when its operation (replication) ends
// Succeeded. What is unconfirmed (README): whether Azure covers image versions at all, and whether
// it also fires when the PUT is accepted.
//
// Operations settle lazily (on the next request); a notification must come at its own simulated
// time, so the operations it watches are settled whenever the clock moves.
import { VirtualClock, type Clock } from "../clock";
import type { JsonObject } from "./http";
import type { Operation } from "./lro";

const CREATED_OR_UPDATED = "Microsoft.ResourceNotifications.Resources.CreatedOrUpdated";
/** The GalleryRP api-version the emulator's resource bodies follow (arm/apiVersions.ts). */
const API_VERSION = "2025-03-03";
/** How often a wall clock checks the watched operations (real milliseconds). */
const WALL_CLOCK_CHECK_MS = 1000;

export type ResourceNotification = Readonly<Record<string, unknown>>;
type Listener = (event: ResourceNotification) => void;

export class ResourceNotifications {
  private readonly emitted: ResourceNotification[] = [];
  private readonly listeners = new Set<Listener>();
  /** Operations whose success emits a notification, with what to emit. */
  private readonly watched = new Map<Operation, () => ResourceNotification | undefined>();
  private interval: NodeJS.Timeout | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly settle: (op: Operation) => void,
  ) {
    if (clock instanceof VirtualClock) clock.onAdvance(() => this.check());
  }

  /** Emits what `describe` returns once `op` ends Succeeded (nothing when it fails or describe returns undefined). */
  watch(op: Operation, describe: () => ResourceNotification | undefined): void {
    this.watched.set(op, describe);
    this.check();
    if (this.watched.size > 0 && !(this.clock instanceof VirtualClock) && !this.interval) {
      this.interval = setInterval(() => this.check(), WALL_CLOCK_CHECK_MS);
      this.interval.unref();
    }
  }

  /** Every notification emitted so far, oldest first. */
  list(): ResourceNotification[] {
    return this.emitted.map((e) => structuredClone(e));
  }

  /** Calls `listener` with each notification from now on; returns the unsubscribe. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  clear(): void {
    this.emitted.length = 0;
    this.watched.clear();
  }

  private check(): void {
    for (const [op, describe] of this.watched) {
      this.settle(op);
      if (op.status === "InProgress") continue;
      this.watched.delete(op);
      const event = op.status === "Succeeded" ? describe() : undefined;
      if (!event) continue;
      this.emitted.push(event);
      for (const listener of this.listeners) listener(structuredClone(event));
    }
    if (this.watched.size === 0 && this.interval) {
      clearInterval(this.interval);
      this.interval = undefined;
    }
  }
}

/** The CreatedOrUpdated event for `resource` (its ARM body: id, name, type, location, tags, properties) written at `at`. */
export function createdOrUpdated(eventId: string, subscriptionId: string, resource: JsonObject, at: number): ResourceNotification {
  const time = new Date(at).toISOString();
  const resourceInfo = {
    tags: resource.tags ?? {},
    id: resource.id,
    name: resource.name,
    type: resource.type,
    location: resource.location,
    properties: resource.properties,
  };
  return {
    id: eventId,
    topic: `/subscriptions/${subscriptionId}`,
    subject: resource.id,
    data: { resourceInfo, operationalInfo: { resourceEventTime: time }, apiVersion: API_VERSION },
    eventType: CREATED_OR_UPDATED,
    dataVersion: "1",
    metadataVersion: "1",
    eventTime: time,
  };
}
