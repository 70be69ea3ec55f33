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
      return {
        kind: "rejected",
        condition: text(field(error, "condition")),
        description: text(field(error, "description")),
        info: record(field(error, "info")),
      };
    }
    case "modified":
      return {
        kind: "modified",
        deliveryFailed: field(state, "delivery_failed") === true,
        undeliverableHere: field(state, "undeliverable_here") === true,
        annotations: record(field(state, "message_annotations")),
      };
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
    answer(delivery, outcomes.rejected({ error }).described(), true);
    finished(delivery);
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
  answer(delivery, state.described(), true);
  finished(delivery);
}

/**
 * Settled by us (its disposition queued above), the delivery is finished: the SDK's receivers settle
 * second and send nothing more, so rhea, which frees a session's outgoing place only once both sides
 * settled, would keep it forever and refuse the 2,049th unsettled delivery of the session.
 */
function finished(delivery: Delivery): void {
  (delivery as unknown as { remote_settled: boolean }).remote_settled = true;
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

/** Accepts or rejects a transfer the peer sent us (settled unless the peer's link settles second). */
export function answerTransfer(delivery: Delivery, error?: { condition: string; description: string }): void {
  answer(delivery, (error ? outcomes.rejected({ error }) : outcomes.accepted()).described());
}

// --- dispositions ------------------------------------------------------------------------------
//
// rhea answers deliveries lazily: `delivery.update` queues the delivery on its session (outgoing
// `pending_dispositions` for our sends, incoming `updated` for the peer's) and the connection's
// next `_process` (a process.nextTick) writes the queue with session.js `write_dispositions`. That
// function coalesces deliveries with consecutive ids into one disposition frame (first..last)
// carrying the *first* delivery's state, and compares states (only accepted+accepted may share a
// frame, message.js are_outcomes_equivalent) only once a range already holds two deliveries. So a
// delivery queued right after one with another outcome is told that one's outcome: a lock-lost
// completion followed by a good one answers both "lock lost", a good one followed by a lock-lost
// one answers both "accepted" (likewise a refused send next to an accepted one). Everything one
// socket read brings (e.g. the SDK's one disposition frame for two completions made in the same
// tick) is answered before rhea writes, so concurrent settlements and sends hit this.
//
// `answer` therefore writes what is queued, through rhea's own writer, before it queues a delivery
// whose outcome is not equivalent to the one queued last. Accepted after accepted (the usual case)
// still queues up and goes out as one frame; a frame never carries two different outcomes.

interface QueuedDelivery {
  readonly state?: unknown;
}

interface SessionInternals {
  outgoing: { pending_dispositions: QueuedDelivery[]; updated: unknown[]; process(): void };
  incoming: { updated: QueuedDelivery[]; process(session: SessionInternals): void };
}

/** rhea's outcome equivalence (message.js: both accepted), not in its typings' message type. */
const equivalent = (rhea.message as unknown as { are_outcomes_equivalent(a: unknown, b: unknown): boolean }).are_outcomes_equivalent;

function sessionOf(delivery: Delivery): SessionInternals {
  return delivery.link.session as unknown as SessionInternals;
}

/**
 * Settles `delivery` with `state`; `settled` undefined lets rhea decide as `accept()` does (an
 * incoming delivery stays unsettled when the peer's link settles second).
 */
function answer(delivery: Delivery, state: unknown, settled?: boolean): void {
  const ours = delivery.link.is_sender();
  const session = sessionOf(delivery);
  const queue = ours ? session.outgoing.pending_dispositions : session.incoming.updated;
  const last = queue[queue.length - 1];
  if (last && !equivalent(last.state, state)) writeQueued(session, ours);
  (delivery as unknown as UpdatableDelivery).update(settled, state);
}

/** rhea's typings want a boolean; its incoming deliveries resolve undefined from the settle mode. */
interface UpdatableDelivery {
  update(settled: boolean | undefined, state: unknown): void;
}

/** Writes the session's queued dispositions now, as its next `_process` would. */
function writeQueued(session: SessionInternals, ours: boolean): void {
  if (!ours) {
    // Incoming.process: write_dispositions(updated), drop settled deliveries, maybe a session flow.
    session.incoming.process(session);
    return;
  }
  // Outgoing.process also sends transfers that have credit (as it would anyway), then tells the
  // application about deliveries the peer updated and then writes the queued dispositions. The
  // broker settles from inside that notification loop (outcome handlers), so the peer's updates
  // are held aside: the nested call writes and cleans up, and notifies nothing a second time.
  const outgoing = session.outgoing;
  const notifying = outgoing.updated;
  outgoing.updated = [];
  try {
    outgoing.process();
  } finally {
    outgoing.updated = notifying;
  }
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
  longArray: (ns: readonly number[]): unknown =>
    rhea.types.wrap_array(
      ns.map((n) => longBytes(n)),
      0x81,
      undefined,
    ),
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
