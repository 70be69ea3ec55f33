// Publishes the orchestration's outcome event (when a topic is configured).
import * as df from "durable-functions";
import { appConfig } from "../config";
import { publishOutcome as send } from "../azure/outcomePublisher";
import { runActivity } from "./activityResult";
import { PUBLISH_OUTCOME, type ActivityResult, type PublishOutcomeInput, type PublishOutcomeResult } from "./names";

export async function publishOutcome(input: PublishOutcomeInput): Promise<ActivityResult<PublishOutcomeResult>> {
  return runActivity(async () => ({ published: await send(appConfig(), input) }));
}

df.app.activity(PUBLISH_OUTCOME, { handler: (input: PublishOutcomeInput) => publishOutcome(input) });
