// Function names: what infra refers to (the Event Grid webhook's functionName, function resource
// ids, hook commands) must be registered by the app, with the right trigger. Fixtures prove the
// mechanism; the last test checks the real tree.
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadBicepFiles, repoRoot } from "./support/bicep";
import { checkFunctionReferences, extractInfraFunctionRefs, scanRegisteredFunctions, stripComments, type RegisteredFunction } from "./support/functions";
import { BicepModel } from "./support/model";
import { loadRepoInfra, readSources, type RepoInfra } from "./support/repo";

const root = repoRoot();
const fixtureApp = path.join(root, "test/infra/fixtures/functions");

let infra: RepoInfra;
let fixtureRegistered: RegisteredFunction[];

beforeAll(async () => {
  infra = await loadRepoInfra(root);
  const sources = readSources(fixtureApp, ["src/functions", "src/orchestrations", "src/activities"], [".ts.txt"]);
  fixtureRegistered = scanRegisteredFunctions(sources);
});

describe("registered function names (fixture app)", () => {
  it("finds app.<trigger>(...) and df.app.<kind>(...) registrations, resolving name constants across files", () => {
    expect(fixtureRegistered.map((fn) => `${fn.kind} ${fn.name} ${fn.file}:${fn.line}`).sort()).toEqual([
      "durable:activity readImageVersion src/activities/readImageVersion.ts.txt:6",
      "durable:orchestration publishImageVersion src/orchestrations/publishImageVersion.ts.txt:11",
      "eventGrid imageVersionEvents src/functions/imageVersionEvents.ts.txt:9",
      "http getStatus src/functions/getStatus.ts.txt:5",
    ]);
  });

  it("ignores registrations in comments and app.setup / app.hook calls", () => {
    const text =
      'app.setup({ enableHttpStream: true });\napp.hook.appStart(() => {});\n/* app.http("old", {}) */\n// app.timer("older", {})\napp.timer("nightly", { schedule: "0 0 * * *", handler });\n';
    expect(scanRegisteredFunctions([{ file: "x.ts", text }]).map((fn) => fn.name)).toEqual(["nightly"]);
    expect(stripComments('const url = "https://x//y"; // c')).toBe('const url = "https://x//y"; ');
  });
});

describe("checkFunctionReferences (fixtures)", () => {
  it("accepts references to registered functions and rejects the rest, naming where they are", async () => {
    const files = await loadBicepFiles(path.join(fixtureApp, "infra"));
    const refs = extractInfraFunctionRefs(new BicepModel(files));
    expect(refs.map((ref) => `${ref.via} ${ref.name}`)).toEqual([
      "eventGridWebhook imageVersionEvents",
      "eventGridWebhook imageVersionEvent",
      "eventGridWebhook <unresolved otherFunction>",
    ]);
    expect(checkFunctionReferences(refs, fixtureRegistered)).toEqual([
      expect.stringMatching(
        /^test\/infra\/fixtures\/functions\/infra\/webhooks\.bicep:15:\d+: infra refers to function 'imageVersionEvent', which the app does not register/,
      ),
      expect.stringMatching(/^test\/infra\/fixtures\/functions\/infra\/webhooks\.bicep:16:\d+: infra refers to function '<unresolved otherFunction>'/),
    ]);
  });

  it("rejects an Event Grid webhook aimed at a function that is not an Event Grid trigger", () => {
    const refs = [{ name: "getStatus", via: "eventGridWebhook" as const, where: "infra/x.bicep:1:1" }];
    expect(checkFunctionReferences(refs, fixtureRegistered)).toEqual([
      "infra/x.bicep:1:1: the Event Grid webhook targets 'getStatus', but the app registers it as http at src/functions/getStatus.ts.txt:5, not app.eventGrid",
    ]);
  });

  it("fails when the app registers nothing (a reference to a function that does not exist yet)", () => {
    const refs = [{ name: "imageVersionEvents", via: "eventGridWebhook" as const, where: "infra/app/event-subscription.bicep:1:1" }];
    expect(checkFunctionReferences(refs, [])).toHaveLength(1);
  });

  it("suggests the registered spelling when only the case differs", () => {
    const refs = [{ name: "ImageVersionEvents", via: "command" as const, where: "infra/hooks/postdeploy.sh:3" }];
    expect(checkFunctionReferences(refs, fixtureRegistered)[0]).toMatch(/did you mean 'imageVersionEvents'/);
  });

  it("reads function names from hook commands too", () => {
    const refs = extractInfraFunctionRefs(new BicepModel([]), [
      { file: "infra/hooks/x.sh", text: "az functionapp function show -g rg -n app --function-name imageVersionEvents\n" },
    ]);
    expect(refs).toEqual([{ name: "imageVersionEvents", via: "command", where: "infra/hooks/x.sh:1" }]);
  });
});

describe("function names in the real tree", () => {
  it("infra refers to the imageVersionEvents Event Grid trigger (event subscription and postdeploy hook)", () => {
    const refs = extractInfraFunctionRefs(infra.model, infra.hookScripts);
    expect(refs.filter((ref) => ref.via === "eventGridWebhook").map((ref) => `${ref.name} ${ref.where.split(":")[0]}`)).toEqual([
      "imageVersionEvents infra/app/event-subscription.bicep",
    ]);
    expect(
      refs
        .filter((ref) => ref.via === "command")
        .map((ref) => ref.where.split(":")[0])
        .sort(),
    ).toEqual(["infra/hooks/postdeploy.ps1", "infra/hooks/postdeploy.sh"]);
  });

  it("every function infra refers to is registered by the app (src/app.ts registers them all)", () => {
    const registered = scanRegisteredFunctions(readSources(root, ["src"]));
    const refs = extractInfraFunctionRefs(infra.model, infra.hookScripts);
    expect(checkFunctionReferences(refs, registered)).toEqual([]);
  });
});
