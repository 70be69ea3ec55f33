// Local Service Bus: an AMQP 1.0 broker on 127.0.0.1 that the real, unmodified
// @azure/service-bus client talks to through a `UseDevelopmentEmulator=true` connection string.
// Queues (with their dead-letter queues) only, SAS authorisation on $cbs, lock and duplicate
// windows on the project's Clock. See README.md beside this file.
import { WallClock, type Clock } from "../clock";
import { bodyForRecord, messageIdText } from "./amqpMessage";
import { Broker } from "./broker";
import { Namespace } from "./namespace";
import type { StoredMessage, SubQueue } from "./queue";
import { BrokerRecorder, type BrokerRecordEntry } from "./record";
import { generateSasKey } from "./sas";
import { startAmqpServer } from "./server";
import { parseQueueSettings, readDeployedQueueSettings, type QueueSettings } from "./settings";

export type { BrokerRecordEntry } from "./record";
export type { QueueSettings } from "./settings";
export { readDeployedQueueSettings, QUEUE_SETTINGS_FILE } from "./settings";
export { createSasToken } from "./sas";

export type QueueSpec = string | ({ name: string } & Partial<QueueSettings>);

export interface ServiceBusBrokerOptions {
  /** 0 (default) = any free port; the broker binds 127.0.0.1 only. */
  port?: number;
  /** Queues to create; settings not given come from `defaults`. */
  queues?: readonly QueueSpec[];
  /** Default RootManageSharedAccessKey. */
  keyName?: string;
  /** Default: a fresh random key. */
  key?: string;
  /** Lock durations, duplicate windows, scheduling and time-to-live follow it. Default WallClock(1). */
  clock?: Clock;
  /** JSON Lines record of what the broker did; default process.env.SERVICEBUS_RECORD. */
  recordPath?: string;
  /** Default settings for queues: default infra/servicebus-queue.json (what infra/ deploys). */
  defaults?: QueueSettings;
}

export interface QueueInfo {
  name: string;
  settings: QueueSettings;
  activeMessageCount: number;
  scheduledMessageCount: number;
  deferredMessageCount: number;
  lockedMessageCount: number;
  deadLetterMessageCount: number;
  duplicatesDropped: number;
}

export interface MessageSnapshot {
  sequenceNumber: number;
  messageId?: string;
  correlationId?: string;
  subject?: string;
  contentType?: string;
  state: "active" | "deferred" | "scheduled";
  deliveryCount: number;
  enqueuedTime: string;
  lockedUntil?: string;
  applicationProperties: Record<string, unknown>;
  deadLetterReason?: string;
  deadLetterErrorDescription?: string;
  /** JSON or text of a data body, else the AMQP value. */
  body: unknown;
}

export interface QueueAdmin {
  create(spec: QueueSpec): QueueInfo;
  list(): QueueInfo[];
  get(name: string): QueueInfo | undefined;
  /** Everything in the queue (or its dead-letter queue) in sequence order, without locking. */
  peek(name: string, subQueue?: "deadLetter"): MessageSnapshot[];
}

export interface ServiceBusBroker {
  /** Endpoint=sb://127.0.0.1:PORT/;SharedAccessKeyName=...;SharedAccessKey=...;UseDevelopmentEmulator=true */
  readonly connectionString: string;
  readonly port: number;
  /** sb://127.0.0.1:PORT/ */
  readonly endpoint: string;
  readonly keyName: string;
  readonly key: string;
  readonly clock: Clock;
  readonly queues: QueueAdmin;
  readonly recordPath: string | undefined;
  records(): BrokerRecordEntry[];
  /** Applies the clock now (lock expiry, schedules, time-to-live); the broker also does so by itself. */
  sweep(): void;
  close(): Promise<void>;
}

function text(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  return typeof value === "string" ? value : messageIdText(value as string | number | Buffer);
}

function snapshot(m: StoredMessage): MessageSnapshot {
  const props = m.applicationProperties;
  const out: MessageSnapshot = {
    sequenceNumber: m.sequenceNumber,
    state: m.state,
    deliveryCount: m.deliveryCount,
    enqueuedTime: new Date(m.enqueuedTime).toISOString(),
    applicationProperties: { ...props },
    body: bodyForRecord(m.amqp, Number.MAX_SAFE_INTEGER),
  };
  const optional: Partial<MessageSnapshot> = {
    messageId: text(m.amqp.message_id),
    correlationId: text(m.amqp.correlation_id),
    subject: m.amqp.subject,
    contentType: m.amqp.content_type,
    lockedUntil: m.lock ? new Date(m.lock.lockedUntil).toISOString() : undefined,
    deadLetterReason: typeof props.DeadLetterReason === "string" ? props.DeadLetterReason : undefined,
    deadLetterErrorDescription: typeof props.DeadLetterErrorDescription === "string" ? props.DeadLetterErrorDescription : undefined,
  };
  for (const [k, v] of Object.entries(optional)) if (v !== undefined) Object.assign(out, { [k]: v });
  return out;
}

function count(sub: SubQueue, predicate: (m: StoredMessage) => boolean): number {
  let n = 0;
  for (const m of sub.messages.values()) if (predicate(m)) n++;
  return n;
}

export async function startServiceBusBroker(options: ServiceBusBrokerOptions = {}): Promise<ServiceBusBroker> {
  const clock = options.clock ?? new WallClock(1);
  const keyName = options.keyName ?? "RootManageSharedAccessKey";
  const key = options.key ?? generateSasKey();
  const defaults = options.defaults ?? readDeployedQueueSettings();
  const recordPath = options.recordPath ?? (process.env.SERVICEBUS_RECORD || undefined);
  const recorder = new BrokerRecorder(recordPath, clock, [key]);
  const namespace = new Namespace((event, fields) => recorder.add(event, fields));

  const info = (name: string): QueueInfo | undefined => {
    const queue = namespace.get(name);
    if (!queue) return undefined;
    return {
      name: queue.name,
      settings: { ...queue.settings },
      activeMessageCount: count(queue.main, (m) => m.state === "active"),
      scheduledMessageCount: count(queue.main, (m) => m.state === "scheduled"),
      deferredMessageCount: count(queue.main, (m) => m.state === "deferred"),
      lockedMessageCount: queue.main.locks.size,
      deadLetterMessageCount: queue.deadLetter.messages.size,
      duplicatesDropped: queue.duplicatesDropped,
    };
  };
  const create = (spec: QueueSpec): QueueInfo => {
    const { name, ...overrides } = typeof spec === "string" ? { name: spec } : spec;
    const queue = namespace.create(name, parseQueueSettings({ ...defaults, ...overrides }, `queue '${name}'`));
    recorder.add("queue-created", { entity: queue.name, settings: queue.settings });
    const created = info(queue.name);
    if (!created) throw new Error(`queue '${name}' vanished`);
    return created;
  };
  for (const spec of options.queues ?? []) create(spec);

  let port = 0;
  const endpoint = (): string => `sb://127.0.0.1:${port}/`;
  const broker = new Broker({ clock, namespace, recorder, keyName, key, endpoint });
  const server = await startAmqpServer(options.port ?? 0, broker).catch((e: unknown) => {
    broker.close(); // releases its clock subscription
    throw e;
  });
  port = server.port;
  recorder.add("broker-started", { endpoint: endpoint(), keyName, queues: namespace.list().map((q) => q.name) });

  let closing: Promise<void> | undefined;
  return {
    connectionString: `Endpoint=${endpoint()};SharedAccessKeyName=${keyName};SharedAccessKey=${key};UseDevelopmentEmulator=true`,
    port,
    endpoint: endpoint(),
    keyName,
    key,
    clock,
    recordPath,
    records: () => recorder.all(),
    sweep: () => broker.sweepAll(),
    queues: {
      create: (spec) => {
        const created = create(spec);
        broker.sweepAll();
        return created;
      },
      list: () => namespace.list().flatMap((q) => info(q.name) ?? []),
      get: info,
      peek: (name, subQueue) => {
        const queue = namespace.get(name);
        if (!queue) throw new RangeError(`no queue '${name}'`);
        const sub = subQueue === "deadLetter" ? queue.deadLetter : queue.main;
        return queue.peek(sub, 0, Number.MAX_SAFE_INTEGER).map(snapshot);
      },
    },
    close: () => {
      closing ??= (async () => {
        broker.close();
        await server.close();
        recorder.add("broker-stopped", {});
      })();
      return closing;
    },
  };
}
