// A receiver attached to a queue or its dead-letter queue, seen from the broker: an outgoing link
// that may carry as many messages as the peer's credit allows. The SDK grants credit per
// receiveMessages call (credit_window 0) and drains what is left when it stops waiting; the
// broker answers a drain at once by using up the credit, so no message is locked for a receiver
// that has already returned.
import type { Delivery, Sender } from "rhea";
import { encodeMessage } from "./amqpMessage";
import type { ReceiveMode, StoredMessage, SubQueue } from "./queue";
import { completeDrain, creditLimit, isDraining, lockTokenTag } from "./rhea";
import { wireMessage } from "./wireMessage";

export interface DeliveryRef {
  readonly sequenceNumber: number;
  /** Undefined in receive-and-delete mode. */
  readonly lockToken?: string;
}

export class Consumer {
  /** Deliveries this broker has made on the link (the sender's delivery-count, including drained credit). */
  private sent = 0;
  private limit = 0;
  private tagCounter = 0;
  readonly deliveries = new WeakMap<Delivery, DeliveryRef>();

  constructor(
    readonly sender: Sender,
    readonly sub: SubQueue,
    readonly mode: ReceiveMode,
    readonly id: string,
  ) {}

  isOpen(): boolean {
    return this.sender.is_open();
  }

  /**
   * Messages the peer will still accept, and the session can hold: rhea keeps every unsettled
   * delivery in its session's outgoing buffer (2,048 by default) and throws when it is full, so a
   * peer with more credit than that gets the rest as it settles (the 'sendable' event).
   */
  available(): number {
    return this.isOpen() ? Math.max(0, Math.min(this.limit - this.sent, sessionRoom(this.sender))) : 0;
  }

  /** On every flow: take the peer's new limit; on a drain, give the unused credit back. Returns true if it drained. */
  onFlow(): boolean {
    this.limit = creditLimit(this.sender);
    if (!isDraining(this.sender)) return false;
    this.sent = Math.max(this.sent, this.limit);
    completeDrain(this.sender);
    return true;
  }

  deliver(message: StoredMessage, lockToken: string | undefined, lockedUntil: number | undefined): void {
    // Peek-lock: the delivery tag is the lock token. Receive-and-delete: any unique tag (sent settled).
    const tag = lockToken ? lockTokenTag(lockToken) : Buffer.from(`rd-${this.tagCounter++}`);
    const delivery = this.sender.send(encodeMessage(wireMessage(message, lockedUntil)), tag, 0);
    this.sent += 1;
    this.deliveries.set(delivery, { sequenceNumber: message.sequenceNumber, ...(lockToken ? { lockToken } : {}) });
  }
}

/** Free places in the sender's session outgoing buffer (rhea's typings do not show the session's internals). */
function sessionRoom(sender: Sender): number {
  const session = (sender as unknown as { session?: { outgoing?: { available?: () => number } } }).session;
  const room = session?.outgoing?.available?.();
  return typeof room === "number" ? room : Number.POSITIVE_INFINITY;
}
