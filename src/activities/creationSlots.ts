// Creations in flight across the whole app: a provisionVm holds one of VM_CREATIONS_IN_FLIGHT
// slots (rows of the registry table, taken with ETag-checked writes) from before its PUT until its
// VM or scale set is done, so onboardings and publishes together never run more at once. A slot's
// lease runs out on its own when a holder never frees it.
import type { Services } from "../services";
import { runActivity } from "./activityResult";
import type { ActivityResult, CreationSlotInput } from "./descriptors";

export function createAcquireCreationSlot(services: Services) {
  return (input: CreationSlotInput): Promise<ActivityResult<{ granted: boolean }>> =>
    runActivity(async () => ({ granted: await services.registry.acquireCreationSlot(input.holder, input.now, input.until, input.slots) }));
}

export function createReleaseCreationSlot(services: Services) {
  return (input: { holder: string }): Promise<ActivityResult<{ released: boolean }>> =>
    runActivity(async () => ({ released: await services.registry.releaseCreationSlot(input.holder) }));
}
