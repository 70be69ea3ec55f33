// The app's side of the bridge: runs an orchestrator episode or an activity that the real engine asked
// for through the same invocation path the local host uses (the library's own programming model), and
// turns the outcome into what the Functions host would have handed back to the extension.
import { findRegistration, registrations, type Registration } from "../host/core";
import { invoke, returnValueOf, stringTypedData, triggerTypeOf, typedDataToJsonText, type BindingServices, type HostLog } from "../host/invoke";
import type { BridgeHandlers, BridgeOutcome, EngineFunction } from "./engine";

function ofType(registration: Registration | undefined, trigger: string): registration is Registration {
  return registration !== undefined && triggerTypeOf(registration).toLowerCase() === trigger.toLowerCase();
}

/** The app's orchestrations, activities and entities, as the engine's function stubs must name them. */
export function durableFunctionsOfApp(): EngineFunction[] {
  const out: EngineFunction[] = [];
  for (const r of registrations()) {
    const trigger = triggerTypeOf(r).toLowerCase();
    if (trigger === "orchestrationtrigger") out.push({ name: r.metadata.name, kind: "orchestration" });
    else if (trigger === "activitytrigger") out.push({ name: r.metadata.name, kind: "activity" });
    else if (trigger === "entitytrigger") out.push({ name: r.metadata.name, kind: "entity" });
  }
  return out;
}

export function appBridgeHandlers(log: HostLog, bindings?: BindingServices): BridgeHandlers {
  return {
    async orchestrate(name, context): Promise<BridgeOutcome> {
      const registration = findRegistration(name);
      if (!ofType(registration, "orchestrationTrigger")) return { ok: false, message: `The function '${name}' is not an orchestrator function in this app.` };
      const instanceId = (JSON.parse(context) as { instanceId?: string }).instanceId ?? "";
      const outcome = await invoke(registration, {
        trigger: stringTypedData(context),
        triggerMetadata: { instanceId: stringTypedData(instanceId) },
        log,
        ...(bindings ? { bindings } : {}),
      });
      // A failing durable-functions orchestrator throws with its state after "$OutOfProcData$:" in the
      // message: handed on whole, the extension replays the state's actions before failing the instance.
      if (!outcome.ok) return { ok: false, message: outcome.error.message, stack: outcome.error.stack ?? "" };
      const returned = returnValueOf(outcome.response);
      const json = returned?.json ?? returned?.string ?? JSON.stringify(outcome.result ?? null);
      return { ok: true, json };
    },
    async activity(name, instanceId, input): Promise<BridgeOutcome> {
      const registration = findRegistration(name);
      if (!ofType(registration, "activityTrigger")) return { ok: false, message: `The function '${name}' is not an activity function in this app.` };
      const outcome = await invoke(registration, {
        trigger: input === undefined ? undefined : stringTypedData(input),
        triggerMetadata: { instanceId: stringTypedData(instanceId) },
        log,
        ...(bindings ? { bindings } : {}),
      });
      if (!outcome.ok) return { ok: false, message: outcome.error.message, stack: outcome.error.stack ?? "" };
      return { ok: true, json: typedDataToJsonText(returnValueOf(outcome.response)) ?? "null" };
    },
  };
}
