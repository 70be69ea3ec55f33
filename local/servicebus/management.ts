// The `<entity>/$management` request node: the operations @azure/service-bus sends from its
// ManagementClient (core/managementClient.ts) for a queue. Answers use the `statusCode` /
// `statusDescription` / `errorCondition` application properties Service Bus uses there (the SDK's
// peek checks `statusCode === 204` for "no messages").
import { decodeMessage, encodeMessage, messageIdText, type AmqpMessage } from "./amqpMessage";
import type { AmqpErrorInfo, ReceiveMode, Settlement, SubQueue } from "./queue";
import { toNumber, toUuidText, typed, uuidBytes } from "./rhea";
import { wireMessage } from "./wireMessage";

export interface ManagementAnswer {
  statusCode: number;
  statusDescription: string;
  errorCondition?: string;
  body?: unknown;
  /** Safe to record. */
  summary: Record<string, unknown>;
}

export interface ManagementContext {
  now(): number;
}

type Body = Record<string, unknown>;

const OPERATIONS = {
  renewLock: "com.microsoft:renew-lock",
  peek: "com.microsoft:peek-message",
  schedule: "com.microsoft:schedule-message",
  cancelScheduled: "com.microsoft:cancel-scheduled-message",
  receiveBySequenceNumber: "com.microsoft:receive-by-sequence-number",
  updateDisposition: "com.microsoft:update-disposition",
} as const;

function fail(error: AmqpErrorInfo, statusCode: number, summary: Record<string, unknown>): ManagementAnswer {
  return { statusCode, statusDescription: error.description, errorCondition: error.condition, summary };
}

function badRequest(description: string, summary: Record<string, unknown>): ManagementAnswer {
  return fail({ condition: "com.microsoft:argument-error", description }, 400, summary);
}

const STATUS_FOR_CONDITION: Record<string, number> = {
  "com.microsoft:message-lock-lost": 410,
  "com.microsoft:message-not-found": 404,
  "amqp:not-allowed": 400,
};

function failWith(error: AmqpErrorInfo, summary: Record<string, unknown>): ManagementAnswer {
  return fail(error, STATUS_FOR_CONDITION[error.condition] ?? 500, summary);
}

function list(value: unknown): unknown[] | undefined {
  return Array.isArray(value) ? value : undefined;
}

function numbers(value: unknown): number[] | undefined {
  const items = list(value)?.map(toNumber);
  return items && items.every((n): n is number => n !== undefined) ? items : undefined;
}

function tokens(value: unknown): string[] | undefined {
  const items = list(value)?.map(toUuidText);
  return items && items.every((t): t is string => t !== undefined) ? items : undefined;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value) ? (value as Record<string, unknown>) : undefined;
}

export function answerManagement(sub: SubQueue, request: AmqpMessage, ctx: ManagementContext): ManagementAnswer {
  const operation = request.application_properties?.operation;
  const summary: Record<string, unknown> = { operation: typeof operation === "string" ? operation : null, entity: sub.path };
  const body = record(request.body) ?? {};
  const queue = sub.queue;
  const now = ctx.now();
  switch (operation) {
    case OPERATIONS.renewLock: {
      const lockTokens = tokens(body["lock-tokens"]);
      if (!lockTokens?.length) return badRequest("'lock-tokens' must be a non-empty array of uuids.", summary);
      summary.lockTokens = lockTokens;
      const expirations: number[] = [];
      for (const token of lockTokens) {
        const renewed = queue.renewLock(sub, token, now);
        if (!renewed.ok) return failWith(renewed.error, summary);
        expirations.push(renewed.value);
      }
      summary.lockedUntil = expirations.map((t) => new Date(t).toISOString());
      return { statusCode: 200, statusDescription: "OK", body: { expirations: typed.timestampArray(expirations) }, summary };
    }
    case OPERATIONS.peek: {
      const from = toNumber(body["from-sequence-number"]) ?? 1;
      const count = toNumber(body["message-count"]) ?? 1;
      if (!(count >= 1)) return badRequest("'message-count' must be at least 1.", summary);
      const messages = queue.peek(sub, from, count);
      Object.assign(summary, { fromSequenceNumber: from, messageCount: count, returned: messages.map((m) => m.sequenceNumber) });
      if (messages.length === 0) return { statusCode: 204, statusDescription: "No messages to peek.", summary };
      return {
        statusCode: 200,
        statusDescription: "OK",
        body: { messages: messages.map((m) => ({ message: encodeMessage(wireMessage(m, m.lock?.lockedUntil)) })) },
        summary,
      };
    }
    case OPERATIONS.schedule: {
      if (sub.kind !== "main") return badRequest("Messages cannot be scheduled on a dead-letter queue.", summary);
      const entries = list(body.messages)?.map(record);
      if (!entries?.length || !entries.every((e) => e && Buffer.isBuffer(e.message)))
        return badRequest("'messages' must be a list of maps with an encoded 'message'.", summary);
      const sequenceNumbers: number[] = [];
      const messageIds: (string | undefined)[] = [];
      for (const entry of entries) {
        const message = decodeMessage(entry?.message as Buffer);
        const at = message.message_annotations?.["x-opt-scheduled-enqueue-time"];
        const sent = queue.send(message, now, at instanceof Date ? at.getTime() : now);
        messageIds.push(messageIdText(message.message_id));
        // A duplicate is dropped silently; Service Bus still answers with a number for it.
        sequenceNumbers.push(sent.sequenceNumber ?? 0);
      }
      Object.assign(summary, { messageIds, sequenceNumbers });
      return { statusCode: 200, statusDescription: "OK", body: { "sequence-numbers": typed.longArray(sequenceNumbers) }, summary };
    }
    case OPERATIONS.cancelScheduled: {
      const sequenceNumbers = numbers(body["sequence-numbers"]);
      if (!sequenceNumbers) return badRequest("'sequence-numbers' must be an array of longs.", summary);
      queue.cancelScheduled(sequenceNumbers);
      summary.sequenceNumbers = sequenceNumbers;
      return { statusCode: 200, statusDescription: "OK", summary };
    }
    case OPERATIONS.receiveBySequenceNumber: {
      const sequenceNumbers = numbers(body["sequence-numbers"]);
      if (!sequenceNumbers?.length) return badRequest("'sequence-numbers' must be a non-empty array of longs.", summary);
      // receiver-settle-mode: 0 = settled on receipt (receiveAndDelete), 1 = peek-lock.
      const mode: ReceiveMode = toNumber(body["receiver-settle-mode"]) === 0 ? "receiveAndDelete" : "peekLock";
      const taken = queue.takeDeferred(sub, sequenceNumbers, mode, now);
      Object.assign(summary, { sequenceNumbers, mode });
      if (!taken.ok) return failWith(taken.error, summary);
      const messages = taken.value.map(({ message, lock }) => ({
        message: encodeMessage(wireMessage(message, lock?.lockedUntil)),
        ...(lock ? { "lock-token": typed.uuid(uuidBytes(lock.token)) } : {}),
      }));
      return { statusCode: 200, statusDescription: "OK", body: { messages }, summary };
    }
    case OPERATIONS.updateDisposition: {
      const lockTokens = tokens(body["lock-tokens"]);
      const status = body["disposition-status"];
      if (!lockTokens?.length) return badRequest("'lock-tokens' must be a non-empty array of uuids.", summary);
      const settlement = dispositionSettlement(status, body);
      if (!settlement) return badRequest(`Unknown 'disposition-status' ${JSON.stringify(status)}.`, summary);
      Object.assign(summary, { lockTokens, disposition: settlement.kind });
      for (const token of lockTokens) {
        const settled = queue.settle(sub, token, settlement, now);
        if (!settled.ok) return failWith(settled.error, summary);
      }
      return { statusCode: 200, statusDescription: "OK", summary };
    }
    default:
      return fail(
        { condition: "amqp:not-implemented", description: `The operation '${String(operation)}' is not supported by the local broker.` },
        501,
        summary,
      );
  }
}

/** update-disposition's status words (the SDK spells "defered") as a settlement. */
function dispositionSettlement(status: unknown, body: Body): Settlement | undefined {
  const properties = record(body["properties-to-modify"]);
  const props = properties ? { properties } : {};
  switch (status) {
    case "completed":
      return { kind: "complete" };
    case "abandoned":
      return { kind: "abandon", ...props };
    case "defered":
    case "deferred":
      return { kind: "defer", ...props };
    case "suspended": {
      const reason = body["deadletter-reason"];
      const description = body["deadletter-description"];
      return { kind: "deadLetter", ...(typeof reason === "string" ? { reason } : {}), ...(typeof description === "string" ? { description } : {}), ...props };
    }
    default:
      return undefined;
  }
}
