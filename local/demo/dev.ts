// npm run dev: the demo's world, kept running for manual use. Prints the URLs and ready-to-paste
// curl commands; publish versions through the emulator's control API and watch the app react.
// DEV_SPEED (default 60) is simulated seconds per real second. DURABLE_ENGINE=dtfx runs orchestrations
// and activities on the real Durable extension and DTFx (local/durable-engine; needs the .NET SDK):
// then time is real (DEV_SPEED is 1) and the world's Azurite serves blobs and queues too.
import { publishInstanceId } from "../../src/domain/instanceIds";
import { WallClock } from "../clock";
import { CONSUMERS, GALLERY_ID, ONBOARDING_QUEUE, PUBLISHER, imageVersionId, startWorld, versionWriteEvent } from "../fixtures/world";

const ENGINE = process.env.DURABLE_ENGINE ?? "node";
const SPEED = Number(process.env.DEV_SPEED ?? (ENGINE === "dtfx" ? "1" : "60"));

async function main(): Promise<void> {
  if (!(SPEED > 0)) throw new Error(`DEV_SPEED must be a positive number; got "${process.env.DEV_SPEED}"`);
  if (ENGINE !== "node" && ENGINE !== "dtfx") throw new Error(`DURABLE_ENGINE must be "node" or "dtfx"; got "${ENGINE}"`);
  // The real engine's timers are real time: the emulator must keep the same time.
  if (ENGINE === "dtfx" && SPEED !== 1) throw new Error(`DEV_SPEED must be 1 with DURABLE_ENGINE=dtfx (its durable timers are real time); got ${SPEED}`);
  const world = await startWorld({ clock: new WallClock(SPEED), seed: 1, log: (line) => console.log(line), durableEngine: ENGINE });
  const version = "1.0.0";
  const versionId = world.publishVersion(version);
  const event = JSON.stringify([versionWriteEvent(versionId)]);
  const key = world.host.functionKey;
  const consumer = CONSUMERS[0];
  const onboarding = JSON.stringify({
    schema: "onboarding/v1",
    requestId: "6f1c2a3b-4d5e-4f60-8a71-92b3c4d5e6f7",
    tenantId: consumer.tenantId,
    displayName: consumer.name,
    mode: "direct",
    galleries: [GALLERY_ID],
  });
  console.log(`gallery-share dev world (simulated time ${SPEED}x, durable engine: ${ENGINE === "dtfx" ? "the real Durable extension and DTFx" : "the local host's runner"})
  local Functions host : ${world.host.baseUrl}   (function key: ${key})
  emulator (ARM, Entra): ${world.emulator.url}   (CA file: ${world.emulator.caFile})
  Azurite tables       : ${world.azurite.tableEndpoint}
  Service Bus broker   : ${world.serviceBus.endpoint}   (queue ${ONBOARDING_QUEUE}; connection string in the ServiceBusConnection setting)
  app identity         : managed identity ${world.identity.clientId} (object id ${world.identity.objectId})
                         from ${world.settings.IDENTITY_ENDPOINT}; in other tenants app ${world.appId}
                         through its federated identity credential (no secret)
  functions            : ${world.host
    .registeredFunctions()
    .map((f) => `${f.name} (${f.trigger})`)
    .join(", ")}

A version ${version} of ${PUBLISHER.image} is replicating now. Try:

  # deliver its Event Grid event to the app
  curl -s -X POST '${world.host.eventGridUrl("imageVersionEvents")}' -H 'aeg-event-type: Notification' -H 'content-type: application/json' -d '${event}'

  # follow the orchestration
  curl -s '${world.host.baseUrl}/api/status/${publishInstanceId(versionId)}?code=${key}'

  # ask for a tenant to be onboarded (validated, then put on the ${ONBOARDING_QUEUE} queue)
  curl -s -X POST '${world.host.baseUrl}/api/onboarding?code=${key}' -H 'content-type: application/json' -d '${onboarding}'

  # publish another version through the emulator's control API (see local/emulator/README.md), then deliver its event as above
  # version ids look like ${imageVersionId("1.0.1")}

  # the operator dashboard (sign in with the development form: pick a user and GalleryShare.Reader / GalleryShare.Operator)
  ${world.host.baseUrl}/api/dashboard

  # the command line, signed in as an operator
  export GALLERY_SHARE_URL=${world.host.baseUrl} GALLERY_SHARE_DEV_USER=ops@contoso.example GALLERY_SHARE_DEV_ROLES=GalleryShare.Operator
  npm run --silent cli -- tenant list --output table
  npm run --silent cli -- version retry <versionId>

Ctrl+C stops everything.`);
  const stop = async (): Promise<void> => {
    await world.close();
    process.exit(0);
  };
  process.once("SIGINT", () => void stop());
  process.once("SIGTERM", () => void stop());
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});
