// What every activity returns, as both sides see it: the activity that returns it and the
// orchestration that acts on it. Errors are returned, not thrown, so the orchestration decides.

/** A permanent failure, or the last of a retryable one, as the orchestration sees it. */
export interface ActivityError {
  /** ARM error code (AuthorizationFailed, ...), Entra code, or a rule name of this app (tenant-limit, ...). */
  readonly code: string;
  readonly status?: number;
  readonly message: string;
  readonly missingAction?: string;
}

/**
 * `retry` present means "try again", after at least `afterSeconds` when the service said so
 * (a 429 or 503 with Retry-After). `resumeWith`: input fields the next attempt takes, saying what
 * this one did before it failed (a write whose answer was lost may have been applied).
 */
export type ActivityResult<T> =
  | { readonly ok: true; readonly value: T }
  | {
      readonly ok: false;
      readonly error: ActivityError;
      readonly retry?: { readonly afterSeconds?: number };
      readonly resumeWith?: Readonly<Record<string, unknown>>;
    };
