// A small durable app for the spike: an orchestration with an activity, a timer, Task.all and an
// external event, and an orchestrator that throws. Registered through durable-functions as the app is.
import * as df from "durable-functions";

export const SPIKE_TIMER_MS = 2_000;

df.app.activity("spikeHello", { handler: (name: string) => `Hello ${name}` });

df.app.orchestration("spikeFlow", function* (context) {
  const first: string = yield context.df.callActivity("spikeHello", "Tokyo");
  yield context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + SPIKE_TIMER_MS));
  const both: string[] = yield context.df.Task.all([context.df.callActivity("spikeHello", "Seattle"), context.df.callActivity("spikeHello", "London")]);
  context.df.setCustomStatus({ waitingFor: "Approval" });
  const approval: unknown = yield context.df.waitForExternalEvent("Approval");
  return { first, both, approval };
});

df.app.orchestration("spikeThrows", function* (context) {
  yield context.df.callActivity("spikeHello", "before the failure");
  throw new Error("spike orchestrator failed on purpose");
});
