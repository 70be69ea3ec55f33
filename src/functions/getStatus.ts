// getStatus: GET /api/status/{instanceId} (function key) returns an orchestration's status.
import { HttpResponse, type HttpRequest, type InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { findInstance } from "../azure/durableInstances";

export const GET_STATUS = "getStatus";

/** The documented response shape (see README, "Status API"). */
export interface StatusBody {
  readonly instanceId: string;
  readonly name: string;
  readonly runtimeStatus: string;
  readonly createdTime: string;
  readonly lastUpdatedTime: string;
  readonly customStatus: unknown;
  readonly output: unknown;
}

const INSTANCE_ID = /^[A-Za-z0-9._:-]{1,256}$/;

export async function getStatus(request: HttpRequest, context: InvocationContext): Promise<HttpResponse> {
  const instanceId = request.params.instanceId ?? "";
  if (!INSTANCE_ID.test(instanceId)) {
    return error(400, "InvalidInstanceId", "instanceId must be 1-256 characters of letters, digits, '.', '_', ':' and '-'");
  }
  const status = await findInstance(df.getClient(context), instanceId);
  if (!status) return error(404, "InstanceNotFound", `no orchestration instance ${instanceId}`);
  const body: StatusBody = {
    instanceId: status.instanceId,
    name: status.name,
    runtimeStatus: String(status.runtimeStatus),
    createdTime: new Date(status.createdTime).toISOString(),
    lastUpdatedTime: new Date(status.lastUpdatedTime).toISOString(),
    customStatus: status.customStatus ?? null,
    output: status.output ?? null,
  };
  return new HttpResponse({ status: 200, jsonBody: body });
}

function error(status: number, code: string, message: string): HttpResponse {
  return new HttpResponse({ status, jsonBody: { error: { code, message } } });
}
