// A stored message as Service Bus puts it on the wire: the sender's message with the header's
// delivery-count (failed deliveries so far) and the broker annotations the SDK reads in
// fromRheaMessage (serviceBusMessage.ts): x-opt-sequence-number, x-opt-enqueued-time,
// x-opt-locked-until, x-opt-message-state; DeadLetterReason/DeadLetterErrorDescription travel as
// application properties.
import type { AmqpMessage } from "./amqpMessage";
import type { StoredMessage } from "./queue";
import { typed } from "./rhea";

const MESSAGE_STATE = { active: 0, deferred: 1, scheduled: 2 } as const;
const MAX_UINT = 0xffff_ffff;

export function wireMessage(message: StoredMessage, lockedUntil?: number): AmqpMessage {
  const annotations: Record<string, unknown> = {
    ...(message.amqp.message_annotations ?? {}),
    "x-opt-sequence-number": typed.long(message.sequenceNumber),
    "x-opt-enqueued-time": new Date(message.enqueuedTime),
  };
  if (lockedUntil !== undefined) annotations["x-opt-locked-until"] = new Date(lockedUntil);
  if (message.state !== "active") annotations["x-opt-message-state"] = typed.int(MESSAGE_STATE[message.state]);
  const out: AmqpMessage = { ...message.amqp, delivery_count: message.deliveryCount, message_annotations: annotations };
  // The effective time-to-live (the queue's default caps the sender's); the header's ttl is a uint.
  if (message.timeToLiveMs <= MAX_UINT) out.ttl = message.timeToLiveMs;
  if (Object.keys(message.applicationProperties).length > 0) out.application_properties = { ...message.applicationProperties };
  else delete out.application_properties;
  return out;
}
