// The namespace's queues and the AMQP node addresses that lead to them: `<queue>`,
// `<queue>/$DeadLetterQueue`, and each one's `/$management` request node. Entity names are
// case-insensitive, as in Service Bus.
import { DEAD_LETTER_PATH, Queue, type QueueEvent, type SubQueue } from "./queue";
import { resolveQueueLimits, type QueueSettings } from "./settings";

export type NodeRef = { kind: "cbs" } | { kind: "entity"; sub: SubQueue } | { kind: "management"; sub: SubQueue };

const MANAGEMENT = "$management";
const QUEUE_NAME = /^[A-Za-z0-9][A-Za-z0-9._\-/]{0,259}$/;

export class Namespace {
  private readonly queues = new Map<string, Queue>();

  constructor(private readonly record: QueueEvent) {}

  create(name: string, settings: QueueSettings): Queue {
    // Service Bus queue names: letters, digits, periods, hyphens, underscores, slashes; up to 260.
    if (!QUEUE_NAME.test(name) || name.includes("$") || name.endsWith("/") || name.endsWith(".")) throw new RangeError(`invalid queue name '${name}'`);
    const key = name.toLowerCase();
    if (this.queues.has(key)) throw new RangeError(`queue '${name}' already exists`);
    const queue = new Queue(name, settings, resolveQueueLimits(settings, `queue '${name}'`), this.record);
    this.queues.set(key, queue);
    return queue;
  }

  get(name: string): Queue | undefined {
    return this.queues.get(name.toLowerCase());
  }

  list(): Queue[] {
    return [...this.queues.values()];
  }

  /** What an address (entity path, or a full sb:// URL) names, if anything. */
  resolve(address: string): NodeRef | undefined {
    const path = entityPath(address);
    if (path === "$cbs") return { kind: "cbs" };
    const segments = path.split("/");
    let node: "entity" | "management" = "entity";
    if (segments.length > 1 && segments[segments.length - 1]?.toLowerCase() === MANAGEMENT) {
      node = "management";
      segments.pop();
    }
    let deadLetter = false;
    if (segments.length > 1 && segments[segments.length - 1]?.toLowerCase() === DEAD_LETTER_PATH.toLowerCase()) {
      deadLetter = true;
      segments.pop();
    }
    const queue = this.get(segments.join("/"));
    if (!queue) return undefined;
    const sub = deadLetter ? queue.deadLetter : queue.main;
    return node === "management" ? { kind: "management", sub } : { kind: "entity", sub };
  }
}

/** `sb://host:port/a/b` or `/a/b` or `a/b` -> `a/b`. */
export function entityPath(address: string): string {
  let path = address;
  const scheme = /^[a-z][a-z0-9+.-]*:\/\/[^/]*/i.exec(path);
  if (scheme) path = path.slice(scheme[0].length);
  return path.replace(/^\/+/, "").replace(/\/+$/, "");
}
