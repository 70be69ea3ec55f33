// Every orchestration reads its input the same way: checked by its rule in
// src/domain/durablePayloads.ts, failing at once, before any I/O, with every problem named.
import type { OrchestrationContext } from "durable-functions";

export function checkedInput<T>(context: OrchestrationContext, problemsOf: (raw: unknown) => readonly string[]): T {
  const raw: unknown = context.df.getInput();
  const problems = problemsOf(raw);
  if (problems.length > 0) throw new Error(`InvalidInput: ${problems.join("; ")}`);
  return raw as T;
}
