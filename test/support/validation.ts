// The DomainValidationError a call throws, for tests that look at its fields.
import { DomainValidationError } from "../../src/domain/validation";

export function validationErrorOf(fn: () => unknown): DomainValidationError {
  try {
    fn();
  } catch (err) {
    if (err instanceof DomainValidationError) return err;
    throw err;
  }
  throw new Error("expected a DomainValidationError");
}
