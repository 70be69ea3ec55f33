// Every activity of the app: the feature modules' maps, joined. An activity's name is its key, its
// input and output types are those of its implementation. src/app.ts registers each entry under its
// key; orchestrations import only the type `Activities` and call through src/orchestrations/activities.ts.
// A feature module reads its services when an activity runs, never when the map is made: the app
// makes the map before the services exist.
import type { Services } from "../services";
import { createDirectSharingActivities } from "./directSharing";
import { createPublishingActivities } from "./publishing";
import { createRbacActivities } from "./rbacAccess";
import { createReconcileActivities } from "./reconciliation";
import { createRolloutActivities } from "./rollout";
import { createShareInboxActivities } from "./shareInbox";
import { createTenantRegistryActivities } from "./tenantRegistry";
import { createWorkloadActivities } from "./workloads";

export function createActivities(services: Services) {
  return {
    ...createPublishingActivities(services),
    ...createDirectSharingActivities(services),
    ...createShareInboxActivities(services),
    ...createRbacActivities(services),
    ...createTenantRegistryActivities(services),
    ...createWorkloadActivities(services),
    ...createReconcileActivities(services),
    ...createRolloutActivities(services),
  };
}

export type Activities = ReturnType<typeof createActivities>;
