// How the share LRO can end: ARM may end it with an empty 200 body, which @azure/arm-compute 25
// fails to deserialize although the share succeeded.

/**
 * The SDK's deserializer reading `operationType` of a missing final body, and nothing else: a
 * dropped connection is a TypeError too ("fetch failed", with a cause), and must stay an error.
 */
export function endedWithEmptyBody(err: unknown): boolean {
  return err instanceof TypeError && err.cause === undefined && /^Cannot read properties of (?:undefined|null) \(reading 'operationType'\)$/.test(err.message);
}
