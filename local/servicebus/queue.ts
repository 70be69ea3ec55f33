// One queue and its dead-letter sub-queue: sequence numbers, peek-lock locks on the broker clock,
// abandon and lock expiry (delivery count + 1, dead-lettered past maxDeliveryCount), deferral,
// scheduled messages, time-to-live and duplicate detection. No AMQP here: the broker turns
// these results into dispositions, management answers and deliveries.
import { randomUUID } from "node:crypto";
import { messageIdKey, messageIdText, type AmqpMessage } from "./amqpMessage";
import type { QueueLimits, QueueSettings } from "./settings";

export type SubQueueKind = "main" | "deadLetter";
export type MessageState = "active" | "deferred" | "scheduled";
export type ReceiveMode = "peekLock" | "receiveAndDelete";

export interface MessageLock {
  readonly token: string;
  lockedUntil: number;
}

export interface StoredMessage {
  readonly sequenceNumber: number;
  /** Broker clock; for a scheduled message, the time it became active. */
  enqueuedTime: number;
  /** As the sender sent it; broker annotations are added per delivery. */
  readonly amqp: AmqpMessage;
  /** The sender's application properties plus any a settlement modified (DeadLetterReason, ...). */
  applicationProperties: Record<string, unknown>;
  /** Failed deliveries so far: the AMQP header's delivery-count (the JS SDK reports it as deliveryCount). */
  deliveryCount: number;
  state: MessageState;
  scheduledTime?: number;
  /** Effective time-to-live: the message's own, capped by the queue's default. */
  readonly timeToLiveMs: number;
  lock?: MessageLock;
}

export interface AmqpErrorInfo {
  condition: string;
  description: string;
}

export type Settlement =
  | { kind: "complete" }
  /** `countDelivery` false for AMQP released (never delivered to the application). */
  | { kind: "abandon"; properties?: Record<string, unknown>; countDelivery?: boolean }
  | { kind: "defer"; properties?: Record<string, unknown> }
  | { kind: "deadLetter"; reason?: string; description?: string; properties?: Record<string, unknown> };

export type Result<T = void> = ({ ok: true } & (T extends void ? unknown : { value: T })) | { ok: false; error: AmqpErrorInfo };

export type QueueEvent = (event: string, fields: Record<string, unknown>) => void;

export const DEAD_LETTER_PATH = "$DeadLetterQueue";

export const LOCK_LOST: AmqpErrorInfo = {
  condition: "com.microsoft:message-lock-lost",
  description:
    "The lock supplied is invalid. Either the lock expired, or the message has already been removed from the queue, or was received by a different receiver instance.",
};

export class SubQueue {
  /** By sequence number; iteration order is arrival order (sequence order on the main queue). */
  readonly messages = new Map<number, StoredMessage>();
  readonly locks = new Map<string, StoredMessage>();

  constructor(
    readonly queue: Queue,
    readonly kind: SubQueueKind,
  ) {}

  /** Entity path, e.g. onboarding or onboarding/$DeadLetterQueue. */
  get path(): string {
    return this.kind === "main" ? this.queue.name : `${this.queue.name}/${DEAD_LETTER_PATH}`;
  }
}

export interface SendOutcome {
  /** False when duplicate detection dropped it (the send still succeeds, as in Service Bus). */
  enqueued: boolean;
  sequenceNumber?: number;
}

export class Queue {
  readonly main: SubQueue;
  readonly deadLetter: SubQueue;
  private nextSequence = 1;
  /** messageId key -> broker time it was first seen within the window. */
  private readonly seenIds = new Map<string, number>();
  duplicatesDropped = 0;

  constructor(
    readonly name: string,
    readonly settings: QueueSettings,
    readonly limits: QueueLimits,
    private readonly record: QueueEvent,
  ) {
    this.main = new SubQueue(this, "main");
    this.deadLetter = new SubQueue(this, "deadLetter");
  }

  sub(kind: SubQueueKind): SubQueue {
    return kind === "main" ? this.main : this.deadLetter;
  }

  /** Enqueues (or schedules, with x-opt-scheduled-enqueue-time) one message, unless it is a duplicate. */
  send(amqp: AmqpMessage, now: number, scheduledTime?: number): SendOutcome {
    if (this.isDuplicate(amqp, now)) {
      this.duplicatesDropped += 1;
      this.record("duplicate-dropped", { entity: this.name, messageId: messageIdText(amqp.message_id) });
      return { enqueued: false };
    }
    // Service Bus gives a message without an id one of its own (a GUID without dashes); the SDK's
    // lock renewer even relies on it (LockRenewer: "no message ID" otherwise).
    if (amqp.message_id === undefined) amqp = { ...amqp, message_id: randomUUID().replace(/-/g, "") };
    const annotated = amqp.message_annotations?.["x-opt-scheduled-enqueue-time"];
    const at = scheduledTime ?? (annotated instanceof Date ? annotated.getTime() : undefined);
    const scheduled = at !== undefined && at > now;
    const message: StoredMessage = {
      sequenceNumber: this.nextSequence++,
      enqueuedTime: scheduled ? at : now,
      amqp,
      applicationProperties: { ...(amqp.application_properties ?? {}) },
      deliveryCount: 0,
      state: scheduled ? "scheduled" : "active",
      timeToLiveMs: Math.min(amqp.ttl !== undefined && amqp.ttl > 0 ? amqp.ttl : Number.MAX_SAFE_INTEGER, this.limits.defaultTimeToLiveMs),
      ...(scheduled ? { scheduledTime: at } : {}),
    };
    this.main.messages.set(message.sequenceNumber, message);
    return { enqueued: true, sequenceNumber: message.sequenceNumber };
  }

  private isDuplicate(amqp: AmqpMessage, now: number): boolean {
    const key = messageIdKey(amqp.message_id);
    if (!this.limits.duplicateDetection || key === undefined) return false;
    const seen = this.seenIds.get(key);
    if (seen !== undefined && now - seen < this.limits.duplicateWindowMs) return true;
    this.seenIds.set(key, now);
    return false;
  }

  /** Removes scheduled messages that have not become active yet (unknown numbers are ignored, as in Service Bus). */
  cancelScheduled(sequenceNumbers: readonly number[]): void {
    for (const n of sequenceNumbers) {
      const message = this.main.messages.get(n);
      if (message?.state === "scheduled") this.main.messages.delete(n);
    }
  }

  /** The first message a receiver may get now: active, not locked, not expired. */
  nextAvailable(sub: SubQueue, now: number): StoredMessage | undefined {
    for (const message of sub.messages.values()) {
      if (message.state === "active" && !message.lock && !this.isExpired(sub, message, now)) return message;
    }
    return undefined;
  }

  /** Hands a message to a receiver: peek-lock locks it (returns the lock), receive-and-delete removes it. */
  take(sub: SubQueue, message: StoredMessage, mode: ReceiveMode, now: number): MessageLock | undefined {
    if (mode === "receiveAndDelete") {
      sub.messages.delete(message.sequenceNumber);
      return undefined;
    }
    const lock: MessageLock = { token: randomUUID(), lockedUntil: now + this.limits.lockDurationMs };
    message.lock = lock;
    sub.locks.set(lock.token, message);
    return lock;
  }

  settle(sub: SubQueue, token: string, settlement: Settlement, now: number): Result {
    const message = this.lockedMessage(sub, token, now);
    if (!message) return { ok: false, error: LOCK_LOST };
    this.unlock(sub, message);
    switch (settlement.kind) {
      case "complete":
        sub.messages.delete(message.sequenceNumber);
        break;
      case "abandon":
        Object.assign(message.applicationProperties, settlement.properties ?? {});
        if (settlement.countDelivery !== false) this.countFailedDelivery(sub, message, now);
        break;
      case "defer":
        Object.assign(message.applicationProperties, settlement.properties ?? {});
        message.state = "deferred";
        break;
      case "deadLetter":
        if (sub.kind === "deadLetter")
          return { ok: false, error: { condition: "amqp:not-allowed", description: "Cannot dead-letter a message that is already in a dead-letter queue." } };
        this.moveToDeadLetter(message, settlement.reason, settlement.description, settlement.properties, now);
        break;
    }
    return { ok: true };
  }

  /** Extends a lock by the lock duration from now; a lost lock is an error, as on Service Bus. */
  renewLock(sub: SubQueue, token: string, now: number): Result<number> {
    const message = this.lockedMessage(sub, token, now);
    if (!message?.lock) return { ok: false, error: LOCK_LOST };
    message.lock.lockedUntil = now + this.limits.lockDurationMs;
    return { ok: true, value: message.lock.lockedUntil };
  }

  /** Messages from `fromSequenceNumber` in sequence order, locked or not, active, deferred or scheduled. */
  peek(sub: SubQueue, fromSequenceNumber: number, count: number): StoredMessage[] {
    return [...sub.messages.values()]
      .filter((m) => m.sequenceNumber >= fromSequenceNumber)
      .sort((a, b) => a.sequenceNumber - b.sequenceNumber)
      .slice(0, Math.max(0, count));
  }

  /** Deferred messages by sequence number, locked (peek-lock) or removed; all must be deferred and unlocked. */
  takeDeferred(sub: SubQueue, sequenceNumbers: readonly number[], mode: ReceiveMode, now: number): Result<{ message: StoredMessage; lock?: MessageLock }[]> {
    const found: StoredMessage[] = [];
    for (const n of sequenceNumbers) {
      const message = sub.messages.get(n);
      if (!message || message.state !== "deferred" || message.lock || this.isExpired(sub, message, now)) {
        return {
          ok: false,
          error: {
            condition: "com.microsoft:message-not-found",
            description: `Failed to lock one or more specified messages. Either the message is not deferred, already locked, or does not exist (sequence number ${n}).`,
          },
        };
      }
      found.push(message);
    }
    return { ok: true, value: found.map((message) => ({ message, ...this.lockOrRemove(sub, message, mode, now) })) };
  }

  private lockOrRemove(sub: SubQueue, message: StoredMessage, mode: ReceiveMode, now: number): { lock?: MessageLock } {
    const lock = this.take(sub, message, mode, now);
    return lock ? { lock } : {};
  }

  /**
   * Applies the clock: expired locks release their message (a failed delivery), scheduled messages
   * come due, messages past their time-to-live are dead-lettered (or dropped), and old message ids
   * leave the duplicate window. Returns true if a receiver could now get something new.
   */
  sweep(now: number): boolean {
    let released = false;
    for (const sub of [this.main, this.deadLetter]) {
      for (const message of [...sub.locks.values()]) {
        if (message.lock && message.lock.lockedUntil <= now) {
          this.record("lock-expired", { entity: sub.path, sequenceNumber: message.sequenceNumber, messageId: messageIdText(message.amqp.message_id) });
          this.unlock(sub, message);
          this.countFailedDelivery(sub, message, now);
          released = true;
        }
      }
    }
    for (const message of [...this.main.messages.values()]) {
      if (message.state === "scheduled" && message.scheduledTime !== undefined && message.scheduledTime <= now) {
        message.state = "active";
        message.enqueuedTime = message.scheduledTime;
        released = true;
      } else if (!message.lock && message.state !== "scheduled" && this.isExpired(this.main, message, now)) {
        if (this.limits.deadLetterOnExpiration)
          this.moveToDeadLetter(message, "TTLExpiredException", "The message expired and was dead lettered.", undefined, now);
        else {
          this.main.messages.delete(message.sequenceNumber);
          this.record("expired", { entity: this.name, sequenceNumber: message.sequenceNumber, messageId: messageIdText(message.amqp.message_id) });
        }
      }
    }
    for (const [key, seen] of [...this.seenIds]) if (now - seen >= this.limits.duplicateWindowMs) this.seenIds.delete(key);
    return released;
  }

  /** The next broker time at which sweep() would change something. */
  nextDeadline(): number | undefined {
    let next: number | undefined;
    const consider = (t: number): void => {
      if (next === undefined || t < next) next = t;
    };
    for (const sub of [this.main, this.deadLetter]) for (const message of sub.locks.values()) if (message.lock) consider(message.lock.lockedUntil);
    for (const message of this.main.messages.values()) {
      if (message.state === "scheduled" && message.scheduledTime !== undefined) consider(message.scheduledTime);
      else if (!message.lock && message.timeToLiveMs < Number.MAX_SAFE_INTEGER - message.enqueuedTime) consider(message.enqueuedTime + message.timeToLiveMs);
    }
    return next;
  }

  private isExpired(sub: SubQueue, message: StoredMessage, now: number): boolean {
    // Dead-lettered messages never expire (Service Bus keeps them until they are received).
    return sub.kind === "main" && message.state !== "scheduled" && now >= message.enqueuedTime + message.timeToLiveMs;
  }

  private lockedMessage(sub: SubQueue, token: string, now: number): StoredMessage | undefined {
    const message = sub.locks.get(token.toLowerCase());
    if (!message?.lock || message.lock.lockedUntil <= now) return undefined;
    return message;
  }

  private unlock(sub: SubQueue, message: StoredMessage): void {
    if (message.lock) sub.locks.delete(message.lock.token);
    delete message.lock;
  }

  /** Abandon or lock expiry: one more failed delivery; past maxDeliveryCount the message is dead-lettered. */
  private countFailedDelivery(sub: SubQueue, message: StoredMessage, now: number): void {
    message.deliveryCount += 1;
    if (sub.kind === "main" && message.deliveryCount >= this.limits.maxDeliveryCount) {
      this.moveToDeadLetter(
        message,
        "MaxDeliveryCountExceeded",
        `Message could not be consumed after ${this.limits.maxDeliveryCount} delivery attempts.`,
        undefined,
        now,
      );
    }
  }

  private moveToDeadLetter(
    message: StoredMessage,
    reason: string | undefined,
    description: string | undefined,
    properties: Record<string, unknown> | undefined,
    now: number,
  ): void {
    this.main.messages.delete(message.sequenceNumber);
    const applicationProperties = { ...message.applicationProperties, ...(properties ?? {}) };
    if (reason !== undefined) applicationProperties.DeadLetterReason = reason;
    if (description !== undefined) applicationProperties.DeadLetterErrorDescription = description;
    const dead: StoredMessage = { ...message, applicationProperties, state: "active" };
    delete dead.lock;
    this.deadLetter.messages.set(dead.sequenceNumber, dead);
    this.record("dead-lettered", {
      entity: this.name,
      sequenceNumber: message.sequenceNumber,
      messageId: messageIdText(message.amqp.message_id),
      reason: reason ?? null,
      description: description ?? null,
      deliveryCount: message.deliveryCount,
      at: new Date(now).toISOString(),
    });
  }
}
