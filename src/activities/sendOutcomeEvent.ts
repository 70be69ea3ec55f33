// Sends an outcome event to the configured topic (a no-op when none is configured).
import type { Services } from "../services";
import type { OutcomeEvent } from "../domain/outcomeEvents";
import { runActivity } from "./activityResult";
import type { ActivityResult } from "./descriptors";

export function createSendOutcomeEvent(services: Services) {
  return (event: OutcomeEvent): Promise<ActivityResult<{ sent: boolean }>> => runActivity(async () => ({ sent: await services.outcomes.send(event) }));
}
