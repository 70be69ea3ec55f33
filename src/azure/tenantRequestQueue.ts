// Sends onboarding and offboarding requests to the onboarding queue with the real ServiceBusSender.
// MessageId = requestId, so the queue's duplicate detection drops a request posted twice; the schema
// travels in the application properties, so a consumer can route without parsing the body.
// In Azure the client authenticates with the app's identity (ServiceBusConnection__fullyQualifiedNamespace),
// locally with the broker's connection string. @azure/service-bus loads with the first request.
import type { ServiceBusClient, ServiceBusSender } from "@azure/service-bus";
import type { AppConfig } from "../config";
import type { TenantMessage } from "../domain/messages";
import type { CredentialProvider } from "./credentials";
import { serviceBusSdk } from "./sdk";

export interface TenantRequestQueue {
  /** False when no namespace is configured (ServiceBusConnection). */
  readonly configured: boolean;
  send(message: TenantMessage): Promise<void>;
}

/** Fail fast: the caller is an HTTP client waiting for 202 or 503, not a background job. */
const RETRY_OPTIONS = { maxRetries: 1, retryDelayInMs: 500, timeoutInMs: 5_000 };

export function createTenantRequestQueue(config: AppConfig, credentials: CredentialProvider): TenantRequestQueue {
  const { queueName, connection } = config.onboardingQueue;
  let client: ServiceBusClient | undefined;
  let sender: ServiceBusSender | undefined;

  const open = (): ServiceBusSender => {
    if (sender) return sender;
    if (!connection) throw new Error("ServiceBusConnection is not configured");
    const { ServiceBusClient } = serviceBusSdk();
    client =
      "connectionString" in connection
        ? new ServiceBusClient(connection.connectionString, { retryOptions: RETRY_OPTIONS })
        : new ServiceBusClient(connection.fullyQualifiedNamespace, credentials.publisher(), { retryOptions: RETRY_OPTIONS });
    sender = client.createSender(queueName);
    return sender;
  };

  return {
    configured: connection !== undefined,
    async send(message) {
      const s = open();
      try {
        await s.sendMessages({
          body: message,
          messageId: message.requestId,
          contentType: "application/json",
          applicationProperties: { schema: message.schema },
        });
      } catch (err) {
        // A broken link is not reused: the next request opens a new one.
        sender = undefined;
        const old = client;
        client = undefined;
        await old?.close().catch(() => undefined);
        throw err;
      }
    },
  };
}
