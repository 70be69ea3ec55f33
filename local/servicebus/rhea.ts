// The broker's only contact with rhea's link and delivery internals. rhea's typings leave most of
// these as `any` (or omit them: local attach fields, drain state); here they are read through
// narrow interfaces so nothing untyped reaches the rest of the broker.
import rhea, { type Delivery, type Receiver, type Sender } from "rhea";

interface Terminus {
  address?: unknown;
  filter?: unknown;
}

interface LinkInternals {
  readonly name: string;
  readonly source?: Terminus | null;
  readonly target?: Terminus | null;
  readonly snd_settle_mode?: number;
  readonly rcv_settle_mode?: number;
  local: { attach: { snd_settle_mode?: number; rcv_settle_mode?: number; max_message_size?: number } };
  credit: number;
  delivery_count: number;
  _draining?: boolean;
  set_source(fields: Record<string, unknown>): void;
  set_target(fields: Record<string, unknown>): void;
  set_drained?(drained: boolean): void;
}

function internals(link: Sender | Receiver): LinkInternals {
  return link as unknown as LinkInternals;
}

function text(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

export function linkName(link: Sender | Receiver): string {
  return internals(link).name;
}

/** Address of the node the peer reads from (it is our sender) or writes to (it is our receiver). */
export function nodeAddress(link: Sender | Receiver): string | undefined {
  const l = internals(link);
  return text(link.is_sender() ? l.source?.address : l.target?.address);
}

/** The peer receiver's own target address: request/response clients put their reply-to there. */
export function peerTargetAddress(sender: Sender): string | undefined {
  return text(internals(sender).target?.address);
}

/** Whether the peer asked for a session filter (sessionful receive). */
export function wantsSession(sender: Sender): boolean {
  const filter = internals(sender).source?.filter;
  return typeof filter === "object" && filter !== null && "com.microsoft:session-filter" in filter;
}

/** Settled sends (snd-settle-mode settled): the SDK's receiveAndDelete mode. */
export function peerSendsSettled(sender: Sender): boolean {
  return internals(sender).snd_settle_mode === 1;
}

/** Answers the attach with the peer's terminus addresses (and its settle mode), as a broker does. */
export function acceptAttach(link: Sender | Receiver, maxMessageSize?: number): void {
  const l = internals(link);
  const source = text(l.source?.address);
  const target = text(l.target?.address);
  if (source !== undefined) l.set_source({ address: source });
  if (target !== undefined) l.set_target({ address: target });
  if (l.snd_settle_mode !== undefined) l.local.attach.snd_settle_mode = l.snd_settle_mode;
  if (l.rcv_settle_mode !== undefined) l.local.attach.rcv_settle_mode = l.rcv_settle_mode;
  if (maxMessageSize !== undefined) l.local.attach.max_message_size = maxMessageSize;
}

/** Refuses a link: the attach goes out without a terminus, followed by a detach with the error. */
export function refuseAttach(link: Sender | Receiver, condition: string, description: string): void {
  link.close({ condition, description });
}

/**
 * The absolute delivery limit the peer granted: its delivery-count plus link-credit from the last
 * flow. rhea keeps `credit` relative to what it has transmitted, so their sum is that limit.
 */
export function creditLimit(sender: Sender): number {
  const l = internals(sender);
  return l.credit + l.delivery_count;
}

export function isDraining(sender: Sender): boolean {
  return internals(sender)._draining === true;
}

/** Uses up the remaining credit and tells the peer so (flow with drain=true). */
export function completeDrain(sender: Sender): void {
  internals(sender).set_drained?.(true);
}

export type PeerOutcome =
  | { kind: "accepted" }
  | { kind: "rejected"; condition?: string; description?: string; info: Record<string, unknown> }
  | { kind: "released" }
  | { kind: "modified"; deliveryFailed: boolean; undeliverableHere: boolean; annotations: Record<string, unknown> }
  | { kind: "unknown" };

function record(value: unknown): Record<string, unknown> {
  if (typeof value !== "object" || value === null) return {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined && v !== null) out[k] = v;
  return out;
}

function field(source: unknown, name: string): unknown {
  return (typeof source === "object" && source !== null) || typeof source === "function" ? (source as Record<string, unknown>)[name] : undefined;
}

/** The outcome the peer (a receiver) put on one of our deliveries. */
export function peerOutcome(delivery: Delivery): PeerOutcome {
  const state: unknown = delivery.remote_state;
  // rhea's outcome classes carry their name on the constructor (message.js define_outcome).
  const type = field(field(state, "constructor"), "composite_type");
  switch (type) {
    case "accepted":
      return { kind: "accepted" };
    case "released":
      return { kind: "released" };
    case "rejected": {
      const error = field(state, "error");
      return { kind: "rejected", condition: text(field(error, "condition")), description: text(field(error, "description")), info: record(field(error, "info")) };
    }
    case "modified":
      return { kind: "modified", deliveryFailed: field(state, "delivery_failed") === true, undeliverableHere: field(state, "undeliverable_here") === true, annotations: record(field(state, "message_annotations")) };
    default:
      return { kind: "unknown" };
  }
}

/**
 * Settles one of our deliveries. On success the peer's own outcome is echoed (a rejected one
 * without its error: the SDK fails any settlement whose final state carries an error); on
 * failure a rejected outcome with the error (e.g. com.microsoft:message-lock-lost).
 */
export function settleDelivery(delivery: Delivery, error?: { condition: string; description: string }): void {
  if (error) {
    delivery.update(true, outcomes.rejected({ error }).described());
    return;
  }
  const peer = peerOutcome(delivery);
  const state =
    peer.kind === "modified"
      ? outcomes.modified({ delivery_failed: peer.deliveryFailed, undeliverable_here: peer.undeliverableHere })
      : peer.kind === "released"
        ? outcomes.released()
        : peer.kind === "rejected"
          ? outcomes.rejected({})
          : outcomes.accepted();
  delivery.update(true, state.described());
}

interface Outcome {
  described(): unknown;
}

/** rhea defines the outcome constructors at runtime (message.js define_outcome) but not in its typings. */
const outcomes = rhea.message as unknown as {
  accepted(): Outcome;
  released(): Outcome;
  rejected(fields: { error?: { condition: string; description: string } }): Outcome;
  modified(fields: { delivery_failed: boolean; undeliverable_here: boolean }): Outcome;
};

/** Accepts or rejects a transfer the peer sent us. */
export function answerTransfer(delivery: Delivery, error?: { condition: string; description: string }): void {
  if (error) delivery.reject(error);
  else delivery.accept();
}

/**
 * Delivery tag for a lock token. The SDK reads the tag as a .NET Guid (first three groups
 * byte-reversed, reorderLockToken) when it receives over a link, and sends tokens back to
 * $management as plain UUID bytes; writing the tag in Guid order makes both agree on the text.
 */
export function lockTokenTag(token: string): Buffer {
  return guidOrder(Buffer.from(rhea.string_to_uuid(token)));
}

function guidOrder(b: Buffer): Buffer {
  const at = (i: number): number => b[i] ?? 0;
  return Buffer.from([at(3), at(2), at(1), at(0), at(5), at(4), at(7), at(6), ...b.subarray(8, 16)]);
}

export function uuidText(bytes: Buffer): string {
  return rhea.uuid_to_string(bytes);
}

export function uuidBytes(token: string): Buffer {
  return Buffer.from(rhea.string_to_uuid(token));
}

export const typed = {
  long: (n: number): unknown => rhea.types.wrap_long(n),
  uuid: (bytes: Buffer): unknown => rhea.types.wrap_uuid(bytes),
  int: (n: number): unknown => rhea.types.wrap_int(n),
  longArray: (ns: readonly number[]): unknown => rhea.types.wrap_array(ns.map((n) => longBytes(n)), 0x81, undefined),
  timestampArray: (ts: readonly number[]): unknown => rhea.types.wrap_array(ts, 0x83, undefined),
};

function longBytes(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(BigInt(n));
  return b;
}

/** A long/int as rhea decodes it (number, or an 8-byte Buffer beyond 2^53) as a number. */
export function toNumber(value: unknown): number | undefined {
  if (typeof value === "number") return value;
  if (Buffer.isBuffer(value) && value.length === 8) return Number(value.readBigInt64BE());
  return undefined;
}

/** A uuid as rhea decodes it (16 bytes) or a string, as lower-case text. */
export function toUuidText(value: unknown): string | undefined {
  if (Buffer.isBuffer(value) && value.length === 16) return uuidText(value).toLowerCase();
  if (typeof value === "string") return value.toLowerCase();
  return undefined;
}
