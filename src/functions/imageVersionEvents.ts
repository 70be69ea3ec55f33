// imageVersionEvents: Event Grid trigger for image-version writes (Event Grid schema or CloudEvents 1.0).
// It parses and classifies the event, and starts one publishImageVersion orchestration per version:
// the instance id is derived from the version id, so repeated deliveries start nothing new. A
// Resource Notifications event about a version is a hint raised to its running publish: read now.
import type { InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import type { AppConfig } from "../config";
import { classifyEvent } from "../domain/events";
import { publishInstanceId } from "../domain/instanceIds";
import { formatGalleryId, sameResourceId } from "../domain/resourceIds";
import { PUBLISH_IMAGE_VERSION, REPLICATION_HINT_EVENT } from "../domain/orchestrationNames";
import type { RolloutSettings } from "../domain/rollout";
import type { PublishImageVersionInput } from "../orchestrations/publishImageVersion";
import { blocksRestart, findInstance } from "../azure/durableInstances";

export type ImageVersionEventResult =
  { readonly action: "ignored"; readonly reason: string } | { readonly action: "started" | "duplicate" | "hinted"; readonly instanceId: string };

export function createImageVersionEventHandler(config: AppConfig) {
  return async function handleImageVersionEvent(event: unknown, context: InvocationContext): Promise<ImageVersionEventResult> {
    const classified = classifyEvent(event);
    if (classified.kind === "invalid") {
      // Thrown, so the host answers 500: Event Grid retries and finally dead-letters the event with this reason.
      const detail = classified.errors.map((e) => `${e.path}: ${e.rule}`).join("; ");
      context.error(`imageVersionEvents: invalid event: ${detail}`);
      throw new Error(`invalid image-version event: ${detail}`);
    }
    if (classified.kind === "ignore") {
      context.log(`imageVersionEvents: ignored event ${classified.eventId ?? "(no id)"}: ${classified.reason}`);
      return { action: "ignored", reason: classified.reason };
    }

    const { ref } = classified;
    const eventGallery = formatGalleryId(ref);
    if (!config.galleryIds.some((id) => sameResourceId(id, eventGallery))) {
      const reason = `gallery ${ref.gallery} (subscription ${ref.subscriptionId}, resource group ${ref.resourceGroup}) is not in GALLERY_IDS`;
      context.log(`imageVersionEvents: ignored event ${classified.eventId}: ${reason}`);
      return { action: "ignored", reason };
    }

    const client = df.getClient(context);
    const instanceId = publishInstanceId(classified.imageVersionId);
    const existing = await findInstance(client, instanceId);
    if (classified.kind === "replicationHint") {
      // Only a publish that is waiting can use a hint; a hint never starts one (the write event does).
      const status = String(existing?.runtimeStatus);
      if (status !== "Running" && status !== "Pending") {
        const reason = `no publish of ${classified.imageVersionId} is running (${existing ? status : "none started"}); the hint changes nothing`;
        context.log(`imageVersionEvents: hint ${classified.eventId}: ${reason}`);
        return { action: "ignored", reason };
      }
      try {
        await client.raiseEvent(instanceId, REPLICATION_HINT_EVENT, { eventId: classified.eventId });
      } catch (err) {
        // The publish ended between the status read and the raise: nothing is left to hint.
        const now = String((await findInstance(client, instanceId))?.runtimeStatus);
        if (now === "Running" || now === "Pending") throw err;
        return { action: "ignored", reason: `the publish of ${classified.imageVersionId} ended (${now}) before the hint reached it` };
      }
      context.log(`imageVersionEvents: hint ${classified.eventId} raised to ${instanceId}: it reads ${classified.imageVersionId} now`);
      return { action: "hinted", instanceId };
    }
    // A running or completed publish starts nothing; nor does the same event delivered again after a
    // publish failed (Event Grid redelivers; re-running failed publishes is the reconciler's job). A
    // new write to the version (a new event) starts a failed publish again.
    if (blocksRestart(existing) || (existing && triggerEventOf(existing.input) === classified.eventId)) {
      context.log(`imageVersionEvents: ${classified.imageVersionId} already has orchestration ${instanceId}; event ${classified.eventId} starts nothing`);
      return { action: "duplicate", instanceId };
    }
    const input: PublishImageVersionInput = {
      imageVersionId: classified.imageVersionId,
      polling: config.polling,
      retry: config.retry,
      workloads: { creationsInFlight: config.creationsInFlight },
      rollout: rolloutOf(config, classified.imageVersionId),
      trigger: {
        eventId: classified.eventId,
        ...(classified.eventTime === undefined ? {} : { eventTime: classified.eventTime }),
        ...(classified.correlationId === undefined ? {} : { correlationId: classified.correlationId }),
      },
    };
    try {
      await client.startNew(PUBLISH_IMAGE_VERSION, { instanceId, input });
    } catch (err) {
      // Another delivery of the same event won the race between our status check and this start.
      if (blocksRestart(await findInstance(client, instanceId))) return { action: "duplicate", instanceId };
      throw err;
    }
    context.log(`imageVersionEvents: started ${PUBLISH_IMAGE_VERSION} ${instanceId} for ${classified.imageVersionId}`);
    return { action: "started", instanceId };
  };
}

/** The id of the event that started a publish, from its input (undefined when the input has none). */
function triggerEventOf(input: unknown): string | undefined {
  if (typeof input !== "object" || input === null || !("trigger" in input)) return undefined;
  const trigger: unknown = input.trigger;
  return typeof trigger === "object" && trigger !== null && "eventId" in trigger && typeof trigger.eventId === "string" ? trigger.eventId : undefined;
}

/** The rollout settings of a version's publish: the rings and soak, and whether its image's latest is gated. */
function rolloutOf(config: AppConfig, imageVersionId: string): RolloutSettings {
  const imageId = imageVersionId.replace(/\/versions\/[^/]+\/?$/i, "");
  return { gated: config.rollout.gatedImages.some((id) => sameResourceId(id, imageId)), rings: config.rollout.rings, soakMinutes: config.rollout.soakMinutes };
}
