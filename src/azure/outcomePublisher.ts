// Sends outcome events (CloudEvents 1.0) to the configured Event Grid topic with the app's identity.
// @azure/eventgrid is loaded with the first event.
import type { EventGridPublisherClient } from "@azure/eventgrid";
import type { AppConfig } from "../config";
import { OUTCOME_EVENT_SOURCE, type OutcomeEvent } from "../domain/outcomeEvents";
import type { CredentialProvider } from "./credentials";
import { eventGridSdk } from "./sdk";

export interface OutcomePublisher {
  /** Sends one event; false when no topic is configured (publishing is optional). */
  send(event: OutcomeEvent): Promise<boolean>;
}

export function createOutcomePublisher(config: AppConfig, credentials: CredentialProvider): OutcomePublisher {
  let client: EventGridPublisherClient<"CloudEvent"> | undefined;
  return {
    async send(event) {
      const endpoint = config.outcomeTopicEndpoint;
      if (!endpoint) return false;
      client ??= new (eventGridSdk().EventGridPublisherClient)(endpoint, "CloudEvent", credentials.publisher(), { retryOptions: { maxRetries: 0 } });
      await client.send([
        { type: event.type, source: OUTCOME_EVENT_SOURCE, subject: event.subject, id: event.id, time: new Date(event.time), data: event.data },
      ]);
      return true;
    },
  };
}
