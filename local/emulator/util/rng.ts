// Seeded randomness. Everything the emulator invents (object ids, operation ids, jitter, fault
// probabilities) comes from here, so two runs with the same seed and the same calls repeat exactly.
import { createHash } from "node:crypto";

function digest(seed: number, parts: readonly string[]): Buffer {
  return createHash("sha256")
    .update(`${seed}\u0000${parts.join("\u0000")}`)
    .digest();
}

/** A number in [0, 1) derived only from the seed and the parts: order of calls does not matter. */
export function hashUnit(seed: number, ...parts: string[]): number {
  return digest(seed, parts).readUInt32BE(0) / 2 ** 32;
}

/** A GUID (version 4 layout) derived only from the seed and the parts. */
export function hashGuid(seed: number, ...parts: string[]): string {
  const b = Buffer.from(digest(seed, parts).subarray(0, 16));
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** A sequential stream (mulberry32) for things that happen in call order, e.g. probabilistic faults. */
export class SeededStream {
  private state: number;
  constructor(seed: number, stream: string) {
    this.state = digest(seed, [stream]).readUInt32BE(0);
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  }
}

/** Sequential GUIDs for ids whose natural key is just "the n-th one" (operation ids, request ids). */
export class GuidSequence {
  private n = 0;
  constructor(
    private readonly seed: number,
    private readonly kind: string,
  ) {}
  next(): string {
    this.n += 1;
    return hashGuid(this.seed, this.kind, String(this.n));
  }
}

export const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
