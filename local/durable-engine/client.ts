// A durable-functions client for a client binding's JSON, made through the package's public API
// (`df.getClient` on an InvocationContext whose durable client input holds that JSON), as a trigger
// with `extraInputs: [df.input.durableClient()]` gets it.
import { InvocationContext } from "@azure/functions";
import * as df from "durable-functions";

export function durableClientFor(binding: Record<string, unknown>): df.DurableClient {
  const input = df.input.durableClient();
  const context = new InvocationContext({
    invocationId: "durable-engine-client",
    functionName: "durableEngineClient",
    options: { trigger: { type: "httpTrigger", name: "req" }, extraInputs: [input], extraOutputs: [] },
  });
  context.extraInputs.set(input, binding);
  return df.getClient(context);
}
