// Publishes outcome events (CloudEvents 1.0) to the configured Event Grid topic with the app's identity.
import { EventGridPublisherClient } from "@azure/eventgrid";
import type { AppConfig } from "../config";
import { appCredential } from "./credentials";

export interface OutcomeEvent {
  readonly type: string;
  readonly subject: string;
  /** Deterministic, so a replayed activity publishes the same event id and subscribers can de-duplicate. */
  readonly id: string;
  readonly time: string;
  readonly data: unknown;
}

export const OUTCOME_EVENT_SOURCE = "/gallery-share";

let forConfig: AppConfig | undefined;
let client: EventGridPublisherClient<"CloudEvent"> | undefined;

/** Sends one event; returns false when no topic is configured (publishing is optional). */
export async function publishOutcome(config: AppConfig, event: OutcomeEvent): Promise<boolean> {
  if (!config.outcomeTopicEndpoint) return false;
  if (forConfig !== config || !client) {
    forConfig = config;
    client = new EventGridPublisherClient(config.outcomeTopicEndpoint, "CloudEvent", appCredential(config));
  }
  await client.send([
    { type: event.type, source: OUTCOME_EVENT_SOURCE, subject: event.subject, id: event.id, time: new Date(event.time), data: event.data },
  ]);
  return true;
}
