// Orchestrations of the conformance suite's own, for engine behaviour no workflow of the app shows
// on purpose: registered with durable-functions next to the app's, so both engines run them.
import * as df from "durable-functions";

export const BIG_STATUS_ORCHESTRATION = "conformanceBigCustomStatus";
export const ECHO_ACTIVITY = "conformanceEcho";

df.app.activity(ECHO_ACTIVITY, { handler: (input: unknown) => input });

/** Sets a custom status of `chars` characters (UTF-16: 2 bytes each), then calls an activity. */
df.app.orchestration(BIG_STATUS_ORCHESTRATION, function* (context) {
  const { chars } = context.df.getInput<{ chars: number }>();
  context.df.setCustomStatus({ filler: "x".repeat(chars) });
  const echoed: unknown = yield context.df.callActivity(ECHO_ACTIVITY, "after the status");
  return { echoed };
});
