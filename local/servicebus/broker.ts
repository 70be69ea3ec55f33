// The broker: what each attach, transfer, outcome and flow means for Service Bus. Links are
// authorised by the claims the connection put on $cbs (the SDK puts one per link audience), queue
// receivers get messages as their credit allows, and every change of state (send, settlement,
// management request, clock) ends with a sweep of that queue and a dispatch to its receivers.
import type { Connection, Delivery, Receiver, Sender } from "rhea";
import type { Clock } from "../clock";
import { batchParts, bodyForRecord, decodeMessage, encodeMessage, encodedSize, messageIdText, BATCH_FORMAT, type AmqpMessage } from "./amqpMessage";
import { answerPutToken, notFoundDescription, type Claim } from "./cbs";
import { Consumer } from "./consumer";
import { DeadlineWatch } from "./deadlines";
import { answerManagement } from "./management";
import { entityPath, type Namespace, type NodeRef } from "./namespace";
import type { Queue, Settlement, SubQueue } from "./queue";
import type { BrokerRecorder } from "./record";
import {
  acceptAttach,
  answerTransfer,
  linkName,
  nodeAddress,
  peerOutcome,
  peerSendsSettled,
  peerTargetAddress,
  refuseAttach,
  settleDelivery,
  wantsSession,
} from "./rhea";
import type { AmqpHandlers } from "./server";

/** Standard tier's message size limit (256 KB), announced as the receiving link's max-message-size. */
export const MAX_MESSAGE_SIZE = 256 * 1024;

interface ConnectionState {
  readonly id: string;
  readonly claims: Claim[];
  /** Our senders that answer requests, by link name and by the peer's target address (its reply-to). */
  readonly replyLinks: Map<string, Sender>;
}

type ReceiverRole = { kind: "cbs" } | { kind: "management"; sub: SubQueue } | { kind: "entity"; sub: SubQueue };

export interface BrokerConfig {
  clock: Clock;
  namespace: Namespace;
  recorder: BrokerRecorder;
  keyName: string;
  key: string;
  /** sb://127.0.0.1:PORT/ once the port is known (audiences in answers and records). */
  endpoint(): string;
}

export class Broker implements AmqpHandlers {
  private readonly connections = new Map<Connection, ConnectionState>();
  private readonly receivers = new Map<Receiver, ReceiverRole>();
  private readonly consumers = new Map<Sender, Consumer>();
  private readonly rotation = new Map<SubQueue, number>();
  private readonly deadlines: DeadlineWatch;
  private nextConnection = 1;

  constructor(private readonly config: BrokerConfig) {
    this.deadlines = new DeadlineWatch(config.clock, () => this.sweepAll());
  }

  close(): void {
    this.deadlines.close();
  }

  // --- clock ---------------------------------------------------------------------------------

  /** Applies the clock to every queue and wakes receivers of whatever became available. */
  sweepAll(): void {
    for (const queue of this.config.namespace.list()) this.settleQueue(queue);
    this.armDeadline();
  }

  /** After any change to `queue`: apply the clock, then deliver to its receivers. */
  private settleQueue(queue: Queue): void {
    queue.sweep(this.config.clock.now());
    this.dispatch(queue.main);
    this.dispatch(queue.deadLetter);
  }

  private touched(queue: Queue): void {
    this.settleQueue(queue);
    this.armDeadline();
  }

  private armDeadline(): void {
    let next: number | undefined;
    for (const queue of this.config.namespace.list()) {
      const t = queue.nextDeadline();
      if (t !== undefined && (next === undefined || t < next)) next = t;
    }
    this.deadlines.arm(next);
  }

  // --- connections ---------------------------------------------------------------------------

  connectionOpened(connection: Connection): void {
    const state: ConnectionState = { id: `conn-${this.nextConnection++}`, claims: [], replyLinks: new Map() };
    this.connections.set(connection, state);
    this.record("connection-open", { connection: state.id, containerId: connection.container_id ?? null });
  }

  connectionClosed(connection: Connection): void {
    const state = this.connections.get(connection);
    this.connections.delete(connection);
    for (const [sender, consumer] of [...this.consumers]) if (sender.connection === connection) this.removeConsumer(sender, consumer);
    for (const receiver of [...this.receivers.keys()]) if (receiver.connection === connection) this.receivers.delete(receiver);
    if (state) this.record("connection-close", { connection: state.id });
  }

  private state(link: Sender | Receiver): ConnectionState {
    let state = this.connections.get(link.connection);
    if (!state) {
      // A link can beat connection_open's handler only if the broker missed the event; track it anyway.
      state = { id: `conn-${this.nextConnection++}`, claims: [], replyLinks: new Map() };
      this.connections.set(link.connection, state);
    }
    return state;
  }

  // --- links -----------------------------------------------------------------------------------

  senderOpened(sender: Sender): void {
    const state = this.state(sender);
    const address = nodeAddress(sender) ?? "";
    const node = this.config.namespace.resolve(address);
    const fields = { connection: state.id, link: linkName(sender), role: "sender", address };
    if (!node) return this.refuse(sender, "amqp:not-found", notFoundDescription(this.audience(address)), fields);
    if (node.kind === "entity") {
      if (!this.authorised(state, address)) return this.refuse(sender, "amqp:unauthorized-access", this.unauthorised("Listen", address), fields);
      if (wantsSession(sender)) return this.refuse(sender, "amqp:not-implemented", "Sessions are not supported by the local Service Bus broker.", fields);
      const mode = peerSendsSettled(sender) ? "receiveAndDelete" : "peekLock";
      acceptAttach(sender);
      this.consumers.set(sender, new Consumer(sender, node.sub, mode, `${state.id}/${linkName(sender)}`));
      this.record("attach", { ...fields, entity: node.sub.path, mode });
      return;
    }
    if (node.kind === "management" && !this.authorised(state, address))
      return this.refuse(sender, "amqp:unauthorized-access", this.unauthorised("Listen", address), fields);
    // A request/response node's answers go back on this link: found by name (CBS) or target (management).
    acceptAttach(sender);
    state.replyLinks.set(linkName(sender), sender);
    const target = peerTargetAddress(sender);
    if (target) state.replyLinks.set(target, sender);
    this.record("attach", { ...fields, node: node.kind });
  }

  receiverOpened(receiver: Receiver): void {
    const state = this.state(receiver);
    const address = nodeAddress(receiver) ?? "";
    const node = this.config.namespace.resolve(address);
    const fields = { connection: state.id, link: linkName(receiver), role: "receiver", address };
    if (!node) return this.refuse(receiver, "amqp:not-found", notFoundDescription(this.audience(address)), fields);
    if (node.kind !== "cbs" && !this.authorised(state, address))
      return this.refuse(receiver, "amqp:unauthorized-access", this.unauthorised(node.kind === "entity" ? "Send" : "Listen", address), fields);
    if (node.kind === "entity" && node.sub.kind !== "main")
      return this.refuse(receiver, "amqp:not-allowed", `Cannot send messages to the dead-letter queue '${node.sub.path}'.`, fields);
    acceptAttach(receiver, MAX_MESSAGE_SIZE);
    this.receivers.set(receiver, roleOf(node));
    this.record("attach", { ...fields, node: node.kind, ...(node.kind === "cbs" ? {} : { entity: node.sub.path }) });
  }

  linkClosed(link: Sender | Receiver): void {
    const state = this.connections.get(link.connection);
    if (link.is_sender()) {
      const sender = link as Sender;
      const consumer = this.consumers.get(sender);
      if (consumer) this.removeConsumer(sender, consumer);
      if (state) for (const [key, s] of [...state.replyLinks]) if (s === sender) state.replyLinks.delete(key);
    } else {
      this.receivers.delete(link as Receiver);
    }
    this.record("detach", { connection: state?.id ?? null, link: linkName(link) });
  }

  private removeConsumer(sender: Sender, consumer: Consumer): void {
    // Messages it holds stay locked until their lock expires (or are settled through $management), as on Service Bus.
    this.consumers.delete(sender);
    this.record("consumer-removed", { link: consumer.id, entity: consumer.sub.path });
  }

  private refuse(link: Sender | Receiver, condition: string, description: string, fields: Record<string, unknown>): void {
    refuseAttach(link, condition, description);
    this.record("attach-refused", { ...fields, condition, description });
  }

  private audience(address: string): string {
    return `${this.config.endpoint()}${entityPath(address)}`;
  }

  private unauthorised(claim: string, address: string): string {
    return `Unauthorized access. '${claim}' claim(s) are required to perform this operation. Resource: '${this.audience(address)}'.`;
  }

  /** A live claim (put on $cbs on this connection) for the address or a parent path. */
  private authorised(state: ConnectionState, address: string): boolean {
    const path = entityPath(address).toLowerCase();
    const nowSeconds = Date.now() / 1000;
    return state.claims.some((claim) => {
      if (claim.expiry <= nowSeconds) return false;
      const claimed = entityPath(claim.audience).toLowerCase();
      return claimed === "" || path === claimed || path.startsWith(`${claimed}/`);
    });
  }

  // --- transfers from the peer -----------------------------------------------------------------

  transfer(receiver: Receiver, delivery: Delivery, message: AmqpMessage, format: number): void {
    const role = this.receivers.get(receiver);
    const state = this.state(receiver);
    if (!role) {
      answerTransfer(delivery, { condition: "amqp:not-allowed", description: "This link is not attached to a node of the broker." });
      return;
    }
    if (role.kind === "cbs") {
      const answer = answerPutToken(
        message,
        { keyName: this.config.keyName, key: this.config.key, namespace: this.config.namespace },
        Math.floor(Date.now() / 1000),
      );
      if (answer.claim) addClaim(state.claims, answer.claim);
      answerTransfer(delivery);
      this.record("put-token", { connection: state.id, ...answer.summary, status: answer.statusCode, description: answer.statusDescription });
      this.reply(state, message, { "status-code": answer.statusCode, "status-description": answer.statusDescription });
      return;
    }
    if (role.kind === "management") {
      const answer = answerManagement(role.sub, message, { now: () => this.config.clock.now() });
      answerTransfer(delivery);
      this.record("management", {
        connection: state.id,
        ...answer.summary,
        status: answer.statusCode,
        ...(answer.statusCode >= 300 ? { description: answer.statusDescription, condition: answer.errorCondition ?? null } : {}),
      });
      this.reply(
        state,
        message,
        {
          statusCode: answer.statusCode,
          statusDescription: answer.statusDescription,
          ...(answer.errorCondition ? { errorCondition: answer.errorCondition } : {}),
        },
        answer.body,
      );
      this.touched(role.sub.queue);
      return;
    }
    this.enqueue(role.sub, delivery, message, format, state);
  }

  private enqueue(sub: SubQueue, delivery: Delivery, message: AmqpMessage, format: number, state: ConnectionState): void {
    let parts: AmqpMessage[];
    try {
      parts = format === BATCH_FORMAT ? batchParts(message).map(decodeMessage) : [message];
    } catch (e) {
      answerTransfer(delivery, { condition: "amqp:decode-error", description: e instanceof Error ? e.message : String(e) });
      return;
    }
    const size = format === BATCH_FORMAT ? parts.reduce((n, p) => n + encodedSize(p), 0) : encodedSize(message);
    if (size > MAX_MESSAGE_SIZE) {
      answerTransfer(delivery, {
        condition: "amqp:link:message-size-exceeded",
        description: `The received message (size ${size} bytes) exceeds the limit (${MAX_MESSAGE_SIZE} bytes) of entity '${sub.path}'.`,
      });
      this.record("send-refused", { connection: state.id, entity: sub.path, size });
      return;
    }
    const now = this.config.clock.now();
    for (const part of parts) {
      const sent = sub.queue.send(part, now);
      this.record("send", {
        connection: state.id,
        entity: sub.path,
        batch: format === BATCH_FORMAT,
        messageId: messageIdText(part.message_id) ?? null,
        sequenceNumber: sent.sequenceNumber ?? null,
        duplicate: !sent.enqueued,
        body: bodyForRecord(part),
      });
    }
    answerTransfer(delivery);
    this.touched(sub.queue);
  }

  private reply(state: ConnectionState, request: AmqpMessage, applicationProperties: Record<string, unknown>, body?: unknown): void {
    const replyTo = request.reply_to;
    const link = replyTo === undefined ? undefined : state.replyLinks.get(replyTo);
    if (!link || !link.is_open()) {
      this.record("reply-dropped", { connection: state.id, replyTo: replyTo ?? null });
      return;
    }
    const response: AmqpMessage = { application_properties: applicationProperties, ...(body === undefined ? {} : { body }) };
    if (request.message_id !== undefined) response.correlation_id = request.message_id;
    if (replyTo !== undefined) response.to = replyTo;
    // rhea queues the transfer until the peer's receiver grants credit.
    link.send(encodeMessage(response), undefined, 0);
  }

  // --- deliveries to the peer ------------------------------------------------------------------

  flow(sender: Sender): void {
    const consumer = this.consumers.get(sender);
    if (!consumer) return;
    if (consumer.onFlow()) this.record("drain", { link: consumer.id, entity: consumer.sub.path });
    else this.touched(consumer.sub.queue);
  }

  sendable(sender: Sender): void {
    const consumer = this.consumers.get(sender);
    if (consumer) this.touched(consumer.sub.queue);
  }

  outcome(sender: Sender, delivery: Delivery): void {
    const consumer = this.consumers.get(sender);
    const ref = consumer?.deliveries.get(delivery);
    if (!consumer || !ref) return; // presettled (receive-and-delete) or not ours
    if (!ref.lockToken) {
      settleDelivery(delivery);
      return;
    }
    const outcome = peerOutcome(delivery);
    const settlement = settlementOf(outcome);
    const sub = consumer.sub;
    const result = settlement
      ? sub.queue.settle(sub, ref.lockToken, settlement, this.config.clock.now())
      : { ok: false as const, error: { condition: "amqp:not-implemented", description: "Unknown delivery outcome." } };
    settleDelivery(delivery, result.ok ? undefined : result.error);
    this.record("settle", {
      link: consumer.id,
      entity: sub.path,
      sequenceNumber: ref.sequenceNumber,
      disposition: settlement?.kind ?? outcome.kind,
      ...(settlement?.kind === "deadLetter" ? { reason: settlement.reason ?? null, description: settlement.description ?? null } : {}),
      ok: result.ok,
      ...(result.ok ? {} : { condition: result.error.condition }),
    });
    this.touched(sub.queue);
  }

  private dispatch(sub: SubQueue): void {
    const ready = [...this.consumers.values()].filter((c) => c.sub === sub && c.available() > 0);
    if (ready.length === 0) return;
    const now = this.config.clock.now();
    let turn = this.rotation.get(sub) ?? 0;
    const budget = ready.reduce((n, c) => n + c.available(), 0);
    // Each round hands out one message; the peers' total credit bounds the rounds.
    for (let round = 0; round < budget; round++) {
      const message = sub.queue.nextAvailable(sub, now);
      if (!message) break;
      const consumer = pickConsumer(ready, turn);
      if (!consumer) break;
      turn = (ready.indexOf(consumer) + 1) % ready.length;
      const lock = sub.queue.take(sub, message, consumer.mode, now);
      consumer.deliver(message, lock?.token, lock?.lockedUntil);
      this.record("deliver", {
        link: consumer.id,
        entity: sub.path,
        mode: consumer.mode,
        sequenceNumber: message.sequenceNumber,
        messageId: messageIdText(message.amqp.message_id) ?? null,
        deliveryCount: message.deliveryCount,
        ...(lock ? { lockToken: lock.token, lockedUntil: new Date(lock.lockedUntil).toISOString() } : {}),
      });
    }
    this.rotation.set(sub, turn);
  }

  private record(event: string, fields: Record<string, unknown>): void {
    this.config.recorder.add(event, fields);
  }

  error(where: string, error: unknown): void {
    this.record("error", { where, error: error instanceof Error ? error.message : String(error) });
  }
}

/** Keeps live claims only: the SDK puts a fresh token per link and again every 45 minutes. */
function addClaim(claims: Claim[], claim: Claim): void {
  const nowSeconds = Date.now() / 1000;
  for (let i = claims.length - 1; i >= 0; i--) if ((claims[i]?.expiry ?? 0) <= nowSeconds) claims.splice(i, 1);
  claims.push(claim);
}

function roleOf(node: NodeRef): ReceiverRole {
  return node.kind === "cbs" ? { kind: "cbs" } : node;
}

function pickConsumer(ready: readonly Consumer[], start: number): Consumer | undefined {
  for (let k = 0; k < ready.length; k++) {
    const candidate = ready[(start + k) % ready.length];
    if (candidate && candidate.available() > 0) return candidate;
  }
  return undefined;
}

/**
 * The SDK's settlements (messageReceiver.ts settleMessage): complete = accepted; abandon =
 * modified; defer = modified with undeliverable-here; dead-letter = rejected with
 * com.microsoft:dead-letter and DeadLetterReason/DeadLetterErrorDescription (plus the
 * properties to modify) in the error's info.
 */
function settlementOf(outcome: ReturnType<typeof peerOutcome>): Settlement | undefined {
  switch (outcome.kind) {
    case "accepted":
      return { kind: "complete" };
    case "released":
      return { kind: "abandon", countDelivery: false };
    case "modified":
      return outcome.undeliverableHere ? { kind: "defer", properties: outcome.annotations } : { kind: "abandon", properties: outcome.annotations };
    case "rejected": {
      const { DeadLetterReason, DeadLetterErrorDescription, ...properties } = outcome.info;
      return {
        kind: "deadLetter",
        ...(typeof DeadLetterReason === "string" ? { reason: DeadLetterReason } : {}),
        ...(typeof DeadLetterErrorDescription === "string" ? { description: DeadLetterErrorDescription } : {}),
        properties,
      };
    }
    default:
      return undefined;
  }
}
