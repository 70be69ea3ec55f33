// In-process Service Bus queues feeding `app.serviceBusQueue` triggers, with peek-lock semantics:
//  - each delivery increments deliveryCount (first delivery: 1) and locks the message;
//  - the handler returns -> complete (auto-complete); the handler throws -> abandon: the message is
//    available again at once and redelivered;
//  - abandoning a message that has been delivered maxDeliveryCount times (default 10) moves it to the
//    dead-letter queue with reason MaxDeliveryCountExceeded;
//  - explicit settlement: the handler gets ServiceBusMessageActions (same methods and option names as
//    `@azure/functions-extensions-servicebus`) as `context.extraInputs.get("serviceBusMessageActions")`;
//    `deadletter(message, { deadLetterReason, deadLetterErrorDescription })`, `complete(message)`,
//    `abandon(message)`, `defer(message)`; a settled message is not auto-settled afterwards, a second
//    settlement fails with MessageLockLost;
//  - duplicate detection: a message whose messageId was sent within the window (default 10 minutes of
//    host-clock time) is accepted and dropped, as a queue with requiresDuplicateDetection does.
// Deliveries on one queue are sequential (maxConcurrentCalls 1), in send order.
import { randomUUID } from "node:crypto";
import type { Clock } from "../clock";
import type { Registration } from "./core";
import type { RpcTypedData } from "./coreTypes";
import { invoke, jsonTypedData, triggerBindingOf, type BindingServices, type HostLog } from "./invoke";

/** Key under which a Service Bus handler finds its settlement actions: `context.extraInputs.get(MESSAGE_ACTIONS_INPUT)`. */
export const MESSAGE_ACTIONS_INPUT = "serviceBusMessageActions";

export interface DeadLetterOptions {
  deadLetterReason?: string;
  deadLetterErrorDescription?: string;
  propertiesToModify?: Record<string, unknown>;
}

/** Mirrors ServiceBusMessageActions of `@azure/functions-extensions-servicebus`. The `message` argument is accepted for the same call shape; the actions always act on the delivery they were given with. */
export interface ServiceBusMessageActions {
  complete(message?: unknown): Promise<void>;
  abandon(message?: unknown, propertiesToModify?: Record<string, unknown>): Promise<void>;
  deadletter(message?: unknown, options?: DeadLetterOptions): Promise<void>;
  defer(message?: unknown, propertiesToModify?: Record<string, unknown>): Promise<void>;
  renewMessageLock(message?: unknown): Promise<void>;
}

export interface ServiceBusSendMessage {
  body: unknown;
  messageId?: string;
  applicationProperties?: Record<string, unknown>;
  contentType?: string;
  correlationId?: string;
  subject?: string;
}

export interface DeadLetteredMessage {
  body: unknown;
  messageId: string;
  deadLetterReason: string;
  deadLetterErrorDescription?: string;
  deliveryCount: number;
  applicationProperties: Record<string, unknown>;
  enqueuedTime: string;
}

export interface ServiceBusQueueOptions {
  maxDeliveryCount?: number;
  /** 0 disables duplicate detection. Default 10 minutes. */
  duplicateDetectionWindowMs?: number;
}

interface QueuedMessage {
  body: unknown;
  messageId: string;
  applicationProperties: Record<string, unknown>;
  contentType: string | undefined;
  correlationId: string | undefined;
  subject: string | undefined;
  deliveryCount: number;
  enqueuedTime: number;
  sequenceNumber: number;
}

interface QueueState {
  name: string;
  active: QueuedMessage[];
  deferred: QueuedMessage[];
  deadLetters: DeadLetteredMessage[];
  seenIds: Map<string, number>;
  delivering: boolean;
}

export class MessageLockLostError extends Error {
  constructor() {
    super("The lock supplied is invalid. Either the lock expired, or the message has already been removed from the queue.");
    this.name = "ServiceBusError";
  }
}

export interface ServiceBusBrokerOptions {
  clock: Clock;
  log: HostLog;
  /** Functions listening on a queue (resolved queue name, lower case). */
  functionsFor: (queueName: string) => Registration[];
  defaults?: ServiceBusQueueOptions;
  queues?: Record<string, ServiceBusQueueOptions>;
  bindings?: BindingServices;
}

export function resolveSetting(value: string, env: Readonly<Record<string, string | undefined>>): string {
  const m = /^%([^%]+)%$/.exec(value.trim());
  if (!m?.[1]) return value;
  return env[m[1]] ?? value;
}

export function serviceBusQueueOf(registration: Registration, env: Readonly<Record<string, string | undefined>>): string | undefined {
  const [, trigger] = triggerBindingOf(registration);
  if (String(trigger.type).toLowerCase() !== "servicebustrigger" || typeof trigger.queueName !== "string") return undefined;
  return resolveSetting(trigger.queueName, env);
}

function bodyTypedData(body: unknown): RpcTypedData {
  if (Buffer.isBuffer(body)) return { bytes: new Uint8Array(body) };
  if (body instanceof Uint8Array) return { bytes: body };
  if (typeof body === "string") return { string: body };
  return jsonTypedData(body ?? null);
}

export class ServiceBusBroker {
  private readonly queues = new Map<string, QueueState>();
  private sequence = 1;
  private inFlight = 0;
  private waiters: Array<() => void> = [];
  private closed = false;

  constructor(private readonly options: ServiceBusBrokerOptions) {}

  private queue(name: string): QueueState {
    const key = name.toLowerCase();
    let q = this.queues.get(key);
    if (!q) {
      q = { name, active: [], deferred: [], deadLetters: [], seenIds: new Map(), delivering: false };
      this.queues.set(key, q);
    }
    return q;
  }

  private settingsOf(name: string): Required<ServiceBusQueueOptions> {
    const specific = Object.entries(this.options.queues ?? {}).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1] ?? {};
    return {
      maxDeliveryCount: specific.maxDeliveryCount ?? this.options.defaults?.maxDeliveryCount ?? 10,
      duplicateDetectionWindowMs: specific.duplicateDetectionWindowMs ?? this.options.defaults?.duplicateDetectionWindowMs ?? 10 * 60 * 1000,
    };
  }

  send(queueName: string, message: ServiceBusSendMessage): void {
    const q = this.queue(queueName);
    const now = this.options.clock.now();
    const messageId = message.messageId ?? randomUUID().replace(/-/g, "");
    const { duplicateDetectionWindowMs } = this.settingsOf(queueName);
    if (duplicateDetectionWindowMs > 0) {
      for (const [id, at] of q.seenIds) if (now - at > duplicateDetectionWindowMs) q.seenIds.delete(id);
      if (q.seenIds.has(messageId)) {
        this.options.log(`[servicebus] ${queueName}: duplicate messageId '${messageId}' dropped`);
        return;
      }
      q.seenIds.set(messageId, now);
    }
    q.active.push({
      body: message.body,
      messageId,
      applicationProperties: { ...(message.applicationProperties ?? {}) },
      contentType: message.contentType,
      correlationId: message.correlationId,
      subject: message.subject,
      deliveryCount: 0,
      enqueuedTime: now,
      sequenceNumber: this.sequence++,
    });
    this.pump(q);
  }

  deadLetters(queueName: string): DeadLetteredMessage[] {
    return this.queues.get(queueName.toLowerCase())?.deadLetters.map((m) => ({ ...m })) ?? [];
  }

  activeCount(queueName: string): number {
    return this.queues.get(queueName.toLowerCase())?.active.length ?? 0;
  }

  deferredCount(queueName: string): number {
    return this.queues.get(queueName.toLowerCase())?.deferred.length ?? 0;
  }

  /** Queues every message of queues without a listener until a function listens. */
  isIdle(): boolean {
    if (this.inFlight > 0) return false;
    for (const q of this.queues.values()) {
      if (q.delivering) return false;
      if (q.active.length > 0 && this.options.functionsFor(q.name).length > 0) return false;
    }
    return true;
  }

  async drain(): Promise<void> {
    for (const q of this.queues.values()) this.pump(q);
    while (!this.isIdle()) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  close(): void {
    this.closed = true;
    this.notify();
  }

  private notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const resolve of w) resolve();
  }

  private pump(q: QueueState): void {
    if (q.delivering || this.closed) return;
    if (q.active.length === 0 || this.options.functionsFor(q.name).length === 0) return;
    q.delivering = true;
    setImmediate(() => {
      void this.deliverAll(q).finally(() => {
        q.delivering = false;
        this.notify();
        if (q.active.length > 0 && !this.closed) this.pump(q);
      });
    });
  }

  private async deliverAll(q: QueueState): Promise<void> {
    while (!this.closed) {
      const message = q.active[0];
      const listeners = this.options.functionsFor(q.name);
      if (!message || listeners.length === 0) return;
      // Each listening function competes for messages; with one listener (the usual case) it gets them all.
      const registration = listeners[(message.sequenceNumber + message.deliveryCount) % listeners.length] ?? listeners[0];
      if (!registration) return;
      q.active.shift();
      this.inFlight++;
      try {
        await this.deliver(q, message, registration);
      } finally {
        this.inFlight--;
        this.notify();
      }
    }
  }

  private async deliver(q: QueueState, message: QueuedMessage, registration: Registration): Promise<void> {
    message.deliveryCount++;
    const lockToken = randomUUID();
    let settlement: { kind: "complete" | "abandon" | "defer" } | { kind: "deadletter"; options: DeadLetterOptions } | undefined;
    const settle = (s: NonNullable<typeof settlement>): Promise<void> => {
      if (settlement) return Promise.reject(new MessageLockLostError());
      settlement = s;
      return Promise.resolve();
    };
    const actions: ServiceBusMessageActions = {
      complete: () => settle({ kind: "complete" }),
      abandon: (_message, properties) => {
        Object.assign(message.applicationProperties, properties ?? {});
        return settle({ kind: "abandon" });
      },
      deadletter: (_message, options) => {
        Object.assign(message.applicationProperties, options?.propertiesToModify ?? {});
        return settle({ kind: "deadletter", options: options ?? {} });
      },
      defer: (_message, properties) => {
        Object.assign(message.applicationProperties, properties ?? {});
        return settle({ kind: "defer" });
      },
      renewMessageLock: () => (settlement ? Promise.reject(new MessageLockLostError()) : Promise.resolve()),
    };
    const iso = (t: number): string => new Date(t).toISOString();
    const meta: Record<string, RpcTypedData> = {
      MessageId: { string: message.messageId },
      DeliveryCount: { int: message.deliveryCount },
      EnqueuedTimeUtc: { string: iso(message.enqueuedTime) },
      ExpiresAtUtc: { string: iso(message.enqueuedTime + 14 * 24 * 3600 * 1000) },
      SequenceNumber: { int: message.sequenceNumber },
      LockToken: { string: lockToken },
      ApplicationProperties: jsonTypedData(message.applicationProperties),
      UserProperties: jsonTypedData(message.applicationProperties),
    };
    if (message.contentType) meta.ContentType = { string: message.contentType };
    if (message.correlationId) meta.CorrelationId = { string: message.correlationId };
    if (message.subject) {
      meta.Subject = { string: message.subject };
      meta.Label = { string: message.subject };
    }
    const outcome = await invoke(registration, {
      trigger: bodyTypedData(message.body),
      triggerMetadata: meta,
      prepare: (context) => context.extraInputs.set(MESSAGE_ACTIONS_INPUT, actions),
      bindings: this.options.bindings,
      log: this.options.log,
    });
    if (!outcome.ok) {
      this.options.log(`[servicebus] ${q.name}: ${registration.metadata.name} failed on message '${message.messageId}' (delivery ${message.deliveryCount}): ${outcome.error.message}`);
    }
    const final: NonNullable<typeof settlement> = settlement ?? (outcome.ok ? { kind: "complete" } : { kind: "abandon" });
    switch (final.kind) {
      case "complete":
        return;
      case "defer":
        q.deferred.push(message);
        return;
      case "deadletter":
        this.deadLetter(q, message, final.options.deadLetterReason ?? "", final.options.deadLetterErrorDescription);
        return;
      case "abandon": {
        const { maxDeliveryCount } = this.settingsOf(q.name);
        if (message.deliveryCount >= maxDeliveryCount) {
          this.deadLetter(q, message, "MaxDeliveryCountExceeded", `Message could not be consumed after ${maxDeliveryCount} delivery attempts.`);
        } else {
          q.active.unshift(message);
        }
        return;
      }
    }
  }

  private deadLetter(q: QueueState, message: QueuedMessage, reason: string, description: string | undefined): void {
    const entry: DeadLetteredMessage = {
      body: message.body,
      messageId: message.messageId,
      deadLetterReason: reason,
      deliveryCount: message.deliveryCount,
      applicationProperties: { ...message.applicationProperties, DeadLetterReason: reason, ...(description === undefined ? {} : { DeadLetterErrorDescription: description }) },
      enqueuedTime: new Date(message.enqueuedTime).toISOString(),
    };
    if (description !== undefined) entry.deadLetterErrorDescription = description;
    q.deadLetters.push(entry);
    this.options.log(`[servicebus] ${q.name}: message '${message.messageId}' dead-lettered: ${reason}${description ? ` (${description})` : ""}`);
  }
}
