/**
 * The `Status` objects the API server answers errors (and some deletes) with, and the one error
 * class every layer of the emulator throws. Messages follow k8s.io/apimachinery/pkg/api/errors so
 * that code matching on `reason` or on the text (kubectl, client retry loops) sees what it would
 * see against a real cluster.
 */

export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Gone'
  | 'Invalid'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'RequestEntityTooLarge'
  | 'UnsupportedMediaType'
  | 'TooManyRequests'
  | 'InternalError'
  | 'ServiceUnavailable'
  | 'Timeout';

export interface StatusCause {
  readonly reason: string;
  readonly message: string;
  readonly field?: string;
}

export interface StatusDetails {
  readonly name?: string;
  readonly group?: string;
  /** The resource (`secrets`) for most errors, the Kind (`Secret`) for Invalid, as the API server does. */
  readonly kind?: string;
  readonly uid?: string;
  readonly causes?: readonly StatusCause[];
  readonly retryAfterSeconds?: number;
}

export interface StatusBody {
  readonly kind: 'Status';
  readonly apiVersion: 'v1';
  readonly metadata: Record<string, never>;
  readonly status: 'Failure' | 'Success';
  readonly message?: string;
  readonly reason?: StatusReason;
  readonly details?: StatusDetails;
  /** Present on failures; a successful delete's Status has none. */
  readonly code?: number;
}

/** Names the resource the way error messages do: `secrets`, `deployments.apps`, `certificates.cert-manager.io`. */
export interface GroupResource {
  readonly group: string;
  readonly resource: string;
}

export function qualifiedResource({ group, resource }: GroupResource): string {
  return group === '' ? resource : `${resource}.${group}`;
}

/** Thrown anywhere in the emulator; the HTTP layer answers it as a `Status`. */
export class KubernetesApiError extends Error {
  override readonly name = 'KubernetesApiError';

  constructor(
    readonly code: number,
    /** Absent for the few errors the real server sends without one (a 500 from storage). */
    readonly reason: StatusReason | undefined,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
  }

  toStatus(): StatusBody {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      ...(this.reason === undefined ? {} : { reason: this.reason }),
      ...(this.details === undefined ? {} : { details: this.details }),
      code: this.code,
    };
  }
}

function detailsFor(target: GroupResource, name: string): StatusDetails {
  return target.group === '' ? { name, kind: target.resource } : { name, group: target.group, kind: target.resource };
}

export function notFound(target: GroupResource, name: string): KubernetesApiError {
  return new KubernetesApiError(404, 'NotFound', `${qualifiedResource(target)} "${name}" not found`, detailsFor(target, name));
}

/** Any path the server has no handler for: the exact text kubectl prints as "the server could not find the requested resource". */
export function pathNotFound(): KubernetesApiError {
  return new KubernetesApiError(404, 'NotFound', 'the server could not find the requested resource', {});
}

export function alreadyExists(target: GroupResource, name: string): KubernetesApiError {
  return new KubernetesApiError(409, 'AlreadyExists', `${qualifiedResource(target)} "${name}" already exists`, detailsFor(target, name));
}

/** `errors.NewConflict(..., registry.OptimisticLockErrorMsg)` unless another cause is given. */
export function conflict(
  target: GroupResource,
  name: string,
  cause = 'the object has been modified; please apply your changes to the latest version and try again',
): KubernetesApiError {
  return new KubernetesApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedResource(target)} "${name}": ${cause}`, detailsFor(target, name));
}

export interface FieldError {
  /** `FieldValueRequired`, `FieldValueInvalid`, `FieldValueForbidden`, `FieldValueNotSupported`... */
  readonly type: 'FieldValueRequired' | 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueNotSupported' | 'FieldValueDuplicate';
  readonly field: string;
  /** Everything after `field: ` in the message, e.g. `Required value` or `Invalid value: "x": ...`. */
  readonly detail: string;
}

/** 422 Invalid: `Secret "x" is invalid: metadata.name: Required value...`, several causes bracketed. */
export function invalid(kind: string, group: string, name: string, errors: readonly FieldError[]): KubernetesApiError {
  const rendered = errors.map((error) => `${error.field}: ${error.detail}`);
  const summary = rendered.length === 1 ? rendered[0] : `[${rendered.join(', ')}]`;
  const qualifiedKind = group === '' ? kind : `${kind}.${group}`;
  return new KubernetesApiError(422, 'Invalid', `${qualifiedKind} "${name}" is invalid: ${summary}`, {
    name,
    ...(group === '' ? {} : { group }),
    kind,
    causes: errors.map((error) => ({ reason: error.type, message: error.detail, field: error.field })),
  });
}

export function badRequest(message: string): KubernetesApiError {
  return new KubernetesApiError(400, 'BadRequest', message);
}

export function unauthorized(): KubernetesApiError {
  return new KubernetesApiError(401, 'Unauthorized', 'Unauthorized');
}

export function methodNotAllowed(): KubernetesApiError {
  return new KubernetesApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
}

/** 406: the request's Accept names no media type the server can answer in. */
export function notAcceptable(offered: readonly string[]): KubernetesApiError {
  return new KubernetesApiError(406, 'NotAcceptable', `only the following media types are accepted: ${offered.join(', ')}`);
}

export function unsupportedMediaType(accepted: readonly string[]): KubernetesApiError {
  return new KubernetesApiError(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`,
  );
}

/** The `Status` a delete answers with when it does not return the object. */
export function deletedStatus(target: GroupResource, name: string, uid: string | undefined): StatusBody {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    details: { ...detailsFor(target, name), ...(uid === undefined ? {} : { uid }) },
  };
}
