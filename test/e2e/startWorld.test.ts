// A world that cannot start leaves nothing running: the Azurite child process and the emulator it
// started are stopped again (a later step failing used to leave Azurite behind).
import { readFileSync, readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { startWorld } from "../../local/fixtures/world";

/** Azurite processes that are children of this process (Linux /proc). */
function azuriteChildren(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc").filter((e) => /^\d+$/.test(e))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid !== process.pid) continue;
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").includes("azurite")) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

describe("startWorld", () => {
  it("stops the Azurite it started when a later step fails", async () => {
    const before = azuriteChildren();
    await expect(startWorld({ settings: { GALLERY_IDS: ",," } })).rejects.toThrow(/GALLERY_IDS/);
    expect(azuriteChildren()).toEqual(before);
  });
});
