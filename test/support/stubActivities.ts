// Stub activities for orchestration tests: registered under the activity's name (its key in the
// app's activity map), each typed by the real activity's input and result, so a stub cannot drift
// from the activity it stands in for.
import type { InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import type { Activities } from "../../src/activities";
import type { ActivityResult } from "../../src/domain/activityResult";

type StubOf<A> = A extends (input: infer I, ...rest: never[]) => Promise<ActivityResult<infer O>>
  ? (input: I, context: InvocationContext) => ActivityResult<O> | Promise<ActivityResult<O>>
  : never;

export type ActivityStubs = { readonly [K in keyof Activities]?: StubOf<Activities[K]> };

/** Each stub gets the durable client input, so one can stand in for an activity that starts or signals orchestrations. */
export function registerStubActivities(stubs: ActivityStubs): void {
  for (const [name, handler] of Object.entries(stubs)) {
    df.app.activity(name, { extraInputs: [df.input.durableClient()], handler: handler as (input: unknown, context: InvocationContext) => unknown });
  }
}
