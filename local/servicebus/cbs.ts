// Claims-based security on `$cbs`: the SDK's put-token before every link (core-amqp cbs.ts,
// service-bus LinkEntity._negotiateClaim). The answer carries `status-code`/`status-description`
// application properties; core-amqp maps 401 to amqp:unauthorized-access (ServiceBusError code
// UnauthorizedAccess) and a description "The messaging entity '...' could not be found" to
// MessagingEntityNotFound, which is what Service Bus answers for a token on a missing entity.
import type { AmqpMessage } from "./amqpMessage";
import type { Namespace } from "./namespace";
import { audienceCovers, checkSasToken } from "./sas";

export const SAS_TOKEN_TYPE = "servicebus.windows.net:sastoken";

export interface Claim {
  /** Audience the token was put for. */
  readonly audience: string;
  /** Seconds since the epoch (real time, like the token's `se`). */
  readonly expiry: number;
}

export interface CbsAnswer {
  statusCode: number;
  statusDescription: string;
  claim?: Claim;
  /** Safe to record: no token, no signature. */
  summary: Record<string, unknown>;
}

export interface CbsConfig {
  keyName: string;
  key: string;
  namespace: Namespace;
}

function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

export function notFoundDescription(audience: string): string {
  return `The messaging entity '${audience}' could not be found. To know more visit https://aka.ms/sbResourceMgrExceptions.`;
}

export function answerPutToken(request: AmqpMessage, config: CbsConfig, nowSeconds: number): CbsAnswer {
  const props = request.application_properties ?? {};
  const operation = str(props.operation);
  const audience = str(props.name);
  const type = str(props.type);
  const summary: Record<string, unknown> = { operation: operation ?? null, audience: audience ?? null, tokenType: type ?? null };
  if (operation !== "put-token") return { statusCode: 400, statusDescription: `The operation '${operation ?? ""}' is not supported on $cbs.`, summary };
  if (audience === undefined) return { statusCode: 400, statusDescription: "The put-token request has no 'name' (audience).", summary };
  if (type !== SAS_TOKEN_TYPE)
    return { statusCode: 401, statusDescription: `InvalidToken: the local broker accepts only SAS tokens (${SAS_TOKEN_TYPE}), not '${type ?? ""}'.`, summary };
  const body = str(request.body);
  if (body === undefined) return { statusCode: 400, statusDescription: "The put-token request has no token in its body.", summary };
  const check = checkSasToken(body, config.keyName, config.key, nowSeconds);
  if (!check.ok) return { statusCode: 401, statusDescription: check.description, summary };
  const token = check.token;
  Object.assign(summary, { keyName: token.keyName, tokenAudience: token.audience, expiry: new Date(token.expiry * 1000).toISOString() });
  if (!audienceCovers(token.audience, audience))
    return { statusCode: 401, statusDescription: `InvalidAudience: The token's audience '${token.audience}' does not cover '${audience}'.`, summary };
  if (!isNamespaceRoot(audience) && config.namespace.resolve(audience) === undefined)
    return { statusCode: 404, statusDescription: notFoundDescription(audience), summary };
  return { statusCode: 202, statusDescription: "Accepted", claim: { audience, expiry: token.expiry }, summary };
}

function isNamespaceRoot(audience: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\/[^/]*\/*$/i.test(audience);
}
