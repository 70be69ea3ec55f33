// The reconciler's triggers and what an operator sees of it:
//   timer (RECONCILE_SCHEDULE) and POST /api/reconcile  start the reconcile orchestration, or find it running;
//   GET /api/drift                                      the last report: per gallery, per tenant, missing / unexpected / in sync;
//   POST /api/publishes/{instanceId}/retry              runs one failed publish again.
import { HttpResponse, type InvocationContext } from "@azure/functions";
import type { DurableClient } from "durable-functions";
import type { AppConfig } from "../config";
import { blocksRestart, findInstance } from "../azure/durableInstances";
import { PUBLISH_IMAGE_VERSION, RECONCILE, RECONCILE_INSTANCE_ID } from "../domain/orchestrationNames";
import { isObject } from "../domain/validation";
import type { ReconcileInput } from "../orchestrations/reconcile";

const RUNNING = new Set(["Pending", "Running", "ContinuedAsNew", "Suspended"]);

/** Starts the reconciler unless it is running; the answer says which. */
export async function startReconcile(client: DurableClient, config: AppConfig): Promise<{ readonly started: boolean; readonly instanceId: string }> {
  const status = await findInstance(client, RECONCILE_INSTANCE_ID);
  if (status && RUNNING.has(String(status.runtimeStatus))) return { started: false, instanceId: RECONCILE_INSTANCE_ID };
  const input: ReconcileInput = { galleryIds: config.galleryIds, removeUnknown: config.reconcile.removeUnknown, retry: config.retry };
  try {
    await client.startNew(RECONCILE, { instanceId: RECONCILE_INSTANCE_ID, input });
  } catch (err) {
    // The timer and an operator started it at the same moment: the other start won.
    const now = await findInstance(client, RECONCILE_INSTANCE_ID);
    if (now && RUNNING.has(String(now.runtimeStatus))) return { started: false, instanceId: RECONCILE_INSTANCE_ID };
    throw err;
  }
  return { started: true, instanceId: RECONCILE_INSTANCE_ID };
}

export async function postReconcile(client: DurableClient, config: AppConfig, context: InvocationContext): Promise<HttpResponse> {
  const { started, instanceId } = await startReconcile(client, config);
  context.log(`reconcile: ${started ? "started" : "already running"} (${instanceId})`);
  return new HttpResponse({ status: 202, jsonBody: { started, instanceId, driftUrl: "/api/drift" } });
}

/** The last reconciliation's report (or the one running, as far as it got). */
export async function getDrift(client: DurableClient): Promise<HttpResponse> {
  const status = await findInstance(client, RECONCILE_INSTANCE_ID);
  if (!status) {
    return new HttpResponse({
      status: 404,
      jsonBody: { error: { code: "NotReconciledYet", message: "the reconciler has not run yet: POST /api/reconcile starts it" } },
    });
  }
  const report = status.runtimeStatus === "Completed" ? status.output : status.customStatus;
  return new HttpResponse({ status: 200, jsonBody: { runtimeStatus: status.runtimeStatus, ...(isObject(report) ? report : {}) } });
}

/** Runs one failed publish again, counting it as a re-run. */
export async function retryPublish(client: DurableClient, instanceId: string, context: InvocationContext): Promise<HttpResponse> {
  const status = await findInstance(client, instanceId);
  if (!status || status.name !== PUBLISH_IMAGE_VERSION || !isObject(status.input)) {
    return new HttpResponse({ status: 404, jsonBody: { error: { code: "PublishNotFound", message: `no publish orchestration ${instanceId}` } } });
  }
  if (blocksRestart(status)) {
    const message = `publish ${instanceId} is ${String(status.runtimeStatus)}: only a failed or terminated publish runs again`;
    return new HttpResponse({ status: 409, jsonBody: { error: { code: "PublishNotFailed", message } } });
  }
  const recovery = status.input.recovery;
  const attempt = (isObject(recovery) && typeof recovery.attempt === "number" ? recovery.attempt : 0) + 1;
  await client.startNew(PUBLISH_IMAGE_VERSION, { instanceId, input: { ...status.input, recovery: { attempt } } });
  context.log(`reconcile: publish ${instanceId} runs again at an operator's request (re-run ${attempt})`);
  return new HttpResponse({ status: 202, jsonBody: { instanceId, attempt, statusUrl: `/api/status/${instanceId}` } });
}
