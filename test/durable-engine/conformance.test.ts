// The conformance suite: each of the app's workflows runs on the local host's Node runner (virtual
// clock) and on the real Durable extension and DTFx (real time, Azure Storage on Azurite), and what
// each engine did must match: final status, output, custom status, scheduled activities of every
// instance, activity invocations, ARM requests and outcome events. Differences the Node runner cannot
// reasonably follow are listed in local/host/README.md.
import "../../local/host";
import "./conformance/conformanceApp";
import { writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAzurite, type Azurite } from "../../local/azurite";
import { recordActivityInvocations, runScenario, type Observation } from "./conformance/harness";
import { SCENARIOS } from "./conformance/scenarios";

let azurite: Azurite;
beforeAll(async () => {
  recordActivityInvocations();
  azurite = await startAzurite({ services: "all" });
});
afterAll(async () => {
  await azurite?.stop();
});

function summary(engine: string, o: Observation): string {
  const root = o.instances.map((i) => `${i.name}=${i.status}`).join(", ");
  return `${engine}: ${root}; ${o.activityCallCount} activity calls, ${o.armRequests.length} ARM requests`;
}

describe("conformance: the Node runner against the real Durable engine", () => {
  for (const scenario of SCENARIOS) {
    it(scenario.name, { timeout: 240_000 }, async () => {
      const node = await runScenario(scenario, "node", azurite);
      const dtfx = await runScenario(scenario, "dtfx", azurite, process.env.CONFORMANCE_LOG ? (l) => console.log(l) : undefined);
      console.log(`conformance: ${scenario.name}\n  ${summary("node", node)}\n  ${summary("dtfx", dtfx)}`);
      if (process.env.CONFORMANCE_DUMP)
        writeFileSync(`${process.env.CONFORMANCE_DUMP}-${SCENARIOS.indexOf(scenario)}.json`, JSON.stringify({ node, dtfx }, null, 2));
      expect(node).toEqual(dtfx);
      console.log(`conformance: ${scenario.name}: the engines agree`);
    });
  }
});
