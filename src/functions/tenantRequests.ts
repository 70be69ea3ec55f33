// tenantRequests: the Service Bus queue trigger for onboarding/v1 and offboarding/v1 messages.
// Settlement follows docs/decisions/0001-service-bus-settlement.md: host.json completes the message
// when this returns and abandons it when this throws. So:
//   - a message that can never be processed (invalid, or in conflict with the tenant's running
//     request) is recorded as a rejected request with every failing field, reported as an outcome
//     event, and this returns: retrying could not help;
//   - a valid one moves the tenant into its lifecycle operation (an ETag-checked registry write, so
//     two messages for one tenant cannot both start) and starts onboardTenant or offboardTenant with
//     an instance id derived from the requestId: a repeat starts nothing;
//   - anything that may pass (storage, the durable client) throws: the message comes back, and after
//     maxDeliveryCount Service Bus dead-letters it. Nothing is lost either way.
import type { InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import type { Services } from "../services";
import { stableGuid } from "../domain/instanceIds";
import { parseTenantMessage, type TenantMessage } from "../domain/messages";
import { REQUEST_REJECTED } from "../domain/outcomeEvents";
import { claimTenant, TenantRequestConflict } from "../domain/tenantLifecycle";
import { boundedText, DomainValidationError, isGuid, isObject, type FieldError } from "../domain/validation";
import { OFFBOARD_TENANT, ONBOARD_TENANT } from "../domain/orchestrationNames";
import type { OffboardTenantInput } from "../orchestrations/offboardTenant";
import type { OnboardTenantInput } from "../orchestrations/onboardTenant";
import { findInstance } from "../azure/durableInstances";

const MAX_RECORDED_FIELDS = 100;

export function instanceIdOf(message: TenantMessage): string {
  return `${message.schema === "onboarding/v1" ? "onboard" : "offboard"}-${message.requestId}`;
}

export function createTenantRequestHandler(services: Pick<Services, "config" | "registry" | "outcomes">) {
  return async function handleTenantRequest(body: unknown, context: InvocationContext): Promise<void> {
    const { registry, config } = services;
    const messageId = typeof context.triggerMetadata?.messageId === "string" ? context.triggerMetadata.messageId : undefined;
    const now = new Date().toISOString();
    const parsed = parseTenantMessage(typeof body === "string" ? tryJson(body) : body, config.galleryIds);
    if (!parsed.ok) return reject(requestIdOf(body, messageId), parsed.errors, "the message is invalid");
    const message = parsed.value;

    const client = df.getClient(context);
    const instanceId = instanceIdOf(message);
    if (await findInstance(client, instanceId)) {
      context.log(`tenantRequests: request ${message.requestId} already has orchestration ${instanceId}; this delivery starts nothing`);
      return;
    }
    // One lifecycle operation per tenant: claim the tenant with an ETag-checked write before starting.
    try {
      await registry.updateTenant(message.tenantId, (current) => claimTenant(current, message, now));
    } catch (err) {
      if (err instanceof TenantRequestConflict) return reject(message.requestId, [{ path: "tenantId", rule: err.message }], err.message, message);
      // A tenant the registry cannot store (Table storage's limits) is refused with the reason, not retried to the dead-letter queue.
      if (err instanceof DomainValidationError) return reject(message.requestId, err.errors, err.message, message);
      throw err;
    }
    await registry.recordRequest({
      requestId: message.requestId,
      schema: message.schema,
      tenantId: message.tenantId,
      state: "running",
      receivedAt: now,
      updatedAt: now,
      instanceId,
      ...(messageId ? { messageId: boundedText(messageId, 128) } : {}),
    });
    const retry = config.retry;
    if (message.schema === "onboarding/v1") {
      const consent = { expiryHours: config.consent.expiryHours, reminderHours: config.consent.reminderHours };
      await client.startNew(ONBOARD_TENANT, {
        instanceId,
        input: { message, retry, consent, creationsInFlight: config.creationsInFlight } satisfies OnboardTenantInput,
      });
    } else {
      await client.startNew(OFFBOARD_TENANT, { instanceId, input: { message, retry } satisfies OffboardTenantInput });
    }
    context.log(`tenantRequests: ${message.schema} ${message.requestId} for tenant ${message.tenantId} started as ${instanceId}`);

    async function reject(requestId: string, fields: readonly FieldError[], reason: string, valid?: TenantMessage): Promise<void> {
      const kept = fields.slice(0, MAX_RECORDED_FIELDS);
      const schema = valid?.schema ?? schemaOf(body);
      const tenantId = valid?.tenantId ?? tenantIdOf(body);
      await registry.recordRequest({
        requestId,
        schema,
        ...(tenantId ? { tenantId } : {}),
        state: "rejected",
        receivedAt: now,
        updatedAt: now,
        reason: fields.length > kept.length ? `${reason} (${fields.length} failing fields; the first ${kept.length} are recorded)` : reason,
        fields: kept,
        ...(messageId ? { messageId: boundedText(messageId, 128) } : {}),
      });
      await services.outcomes.send({
        type: REQUEST_REJECTED,
        subject: `/requests/${requestId}`,
        id: `${requestId}:${REQUEST_REJECTED}`,
        time: now,
        data: { requestId, schema, ...(tenantId ? { tenantId } : {}), reason, fields: kept },
      });
      context.warn(
        `tenantRequests: request ${requestId} rejected: ${reason}: ${kept
          .map((f) => `${f.path || "(message)"} ${f.rule}`)
          .join("; ")
          .slice(0, 2000)}`,
      );
    }
  };
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The request id a rejection is recorded under: the message's own when it is a GUID, else one derived from the Service Bus message id. */
function requestIdOf(body: unknown, messageId: string | undefined): string {
  const own = isObject(body) ? body.requestId : undefined;
  if (isGuid(own)) return own.toLowerCase();
  if (isGuid(messageId)) return messageId.toLowerCase();
  return stableGuid(`rejected|${messageId ?? JSON.stringify(body)?.slice(0, 4096) ?? ""}`);
}

function schemaOf(body: unknown): "onboarding/v1" | "offboarding/v1" | "unknown" {
  const s = isObject(body) ? body.schema : undefined;
  return s === "onboarding/v1" || s === "offboarding/v1" ? s : "unknown";
}

function tenantIdOf(body: unknown): string | undefined {
  const t = isObject(body) ? body.tenantId : undefined;
  return isGuid(t) ? t.toLowerCase() : undefined;
}
