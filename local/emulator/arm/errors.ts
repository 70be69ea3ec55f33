// ARM CloudError responses with the codes and message wording real ARM / Compute use.
import type { EmuResponse } from "../http";

export interface ErrorDetail {
  code: string;
  message: string;
  target?: string;
}

/** Thrown by handlers; the server turns it into `{"error": {code, message, ...}}`. */
export class ArmError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: { target?: string; details?: ErrorDetail[]; headers?: Record<string, string> } = {},
  ) {
    super(message);
  }

  toResponse(): EmuResponse {
    const error: Record<string, unknown> = { code: this.code, message: this.message };
    if (this.extra.target !== undefined) error.target = this.extra.target;
    if (this.extra.details !== undefined) error.details = this.extra.details;
    return { status: this.status, headers: { ...this.extra.headers }, body: { error } };
  }
}

export const errors = {
  authenticationMissing: () =>
    new ArmError(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.", {
      headers: {
        "www-authenticate":
          'Bearer authorization_uri="", error="invalid_token", error_description="The authentication failed because of missing \'Authorization\' header."',
      },
    }),
  authenticationInvalidFormat: () =>
    new ArmError(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is provided in an invalid format."),
  invalidToken: (why: string) => new ArmError(401, "InvalidAuthenticationToken", `The access token is invalid. ${why}`),
  expiredToken: () => new ArmError(401, "ExpiredAuthenticationToken", "The access token expiry UTC time is earlier than current UTC time."),
  expiredAuxiliaryToken: (label: string) =>
    new ArmError(401, "ExpiredAuthenticationToken", `${label}The access token expiry UTC time is earlier than current UTC time.`),
  wrongTenant: (issuer: string, expectedIssuer: string, authority: string) =>
    new ArmError(
      401,
      "InvalidAuthenticationTokenTenant",
      `The access token is from the wrong issuer '${issuer}'. It must match the tenant '${expectedIssuer}' associated with this subscription. Please use the authority (URL) '${authority}' to get the token. Note, if the subscription is transferred to another tenant there is no impact to the services, but information about new tenant could take time to propagate (up to an hour). If you just transferred your subscription and see this error message, please try back later.`,
    ),
  authorizationFailed: (objectId: string, appId: string | undefined, action: string, scope: string) =>
    new ArmError(
      403,
      "AuthorizationFailed",
      `The client '${appId ?? objectId}' with object id '${objectId}' does not have authorization to perform action '${action}' over scope '${scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
    ),
  linkedTenantNotAuthorized: (action: string, scope: string, tenantId: string, linkedSubscriptionId: string) =>
    new ArmError(
      403,
      "LinkedAuthorizationFailed",
      `The client has permission to perform action '${action}' on scope '${scope}', however the current tenant '${tenantId}' is not authorized to access linked subscription '${linkedSubscriptionId}'.`,
    ),
  /**
   * The linked read check on an image, as recorded (MicrosoftDocs/azure-docs#114801, a VM created from
   * a gallery image of another tenant): the generic action 'read' on the linked scope.
   */
  linkedReadDenied: (objectId: string, appId: string | undefined, action: string, scope: string, linkedScope: string) =>
    new ArmError(
      403,
      "LinkedAuthorizationFailed",
      `The client '${appId ?? objectId}' with object id '${objectId}' has permission to perform action '${action}' on scope '${scope}'; however, it does not have permission to perform action 'read' on the linked scope(s) '${linkedScope}' or the linked scope(s) are invalid.`,
    ),
  linkedPermissionMissing: (objectId: string, appId: string | undefined, action: string, scope: string, linkedAction: string, linkedScope: string) =>
    new ArmError(
      403,
      "LinkedAuthorizationFailed",
      `The client '${appId ?? objectId}' with object id '${objectId}' has permission to perform action '${action}' on scope '${scope}'; however, it does not have permission to perform action(s) '${linkedAction}' on the linked scope(s) '${linkedScope}' (respectively) or the linked scope(s) are invalid.`,
    ),
  subscriptionNotFound: (subscriptionId: string) => new ArmError(404, "SubscriptionNotFound", `The subscription '${subscriptionId}' could not be found.`),
  resourceGroupNotFound: (resourceGroup: string) => new ArmError(404, "ResourceGroupNotFound", `Resource group '${resourceGroup}' could not be found.`),
  resourceNotFound: (type: string, name: string, resourceGroup: string) =>
    new ArmError(
      404,
      "ResourceNotFound",
      `The Resource '${type}/${name}' under resource group '${resourceGroup}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
    ),
  galleryImageNotFound: (id: string) => new ArmError(404, "GalleryImageNotFound", `The gallery image ${id} is not found.`),
  galleryImageVersionNotFound: (id: string) => new ArmError(404, "GalleryImageVersionNotFound", `The gallery image version ${id} is not found.`),
  notFoundInRegion: (id: string, region: string) =>
    new ArmError(
      404,
      "GalleryImageNotFound",
      `The gallery image ${id} is not available in ${region} region. Please contact image owner to replicate to this region, or change your requested region.`,
    ),
  linkedInvalidPropertyId: (id: string, path: string) =>
    new ArmError(
      400,
      "LinkedInvalidPropertyId",
      `Property id '${id}' at path '${path}' is invalid. Expect fully qualified resource Id that start with '/subscriptions/{subscriptionId}' or '/providers/{resourceProviderNamespace}/'.`,
    ),
  propertyChangeNotAllowed: (property: string) =>
    new ArmError(409, "PropertyChangeNotAllowed", `Changing property '${property}' is not allowed.`, { target: property }),
  invalidParameter: (message: string, target?: string) => new ArmError(400, "InvalidParameter", message, target === undefined ? {} : { target }),
  missingApiVersion: () => new ArmError(400, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests."),
  invalidApiVersion: (apiVersion: string, supported: readonly string[]) =>
    new ArmError(400, "InvalidApiVersionParameter", `The api-version '${apiVersion}' is invalid. The supported versions are '${supported.join(",")}'.`),
  noRegisteredProvider: (location: string, apiVersion: string, type: string, supported: readonly string[], locations: readonly string[]) =>
    new ArmError(
      400,
      "NoRegisteredProviderFound",
      `No registered resource provider found for location '${location}' and API version '${apiVersion}' for type '${type}'. The supported api-versions are '${supported.join(", ")}'. The supported locations are '${locations.join(", ")}'.`,
    ),
  locationNotAvailable: (location: string, type: string, locations: readonly string[]) =>
    new ArmError(
      400,
      "LocationNotAvailableForResourceType",
      `The provided location '${location}' is not available for resource type '${type}'. List of available regions for the resource type is '${locations.join(",")}'.`,
    ),
  invalidResourceLocation: (name: string, existing: string, resourceGroup: string, requested: string) =>
    new ArmError(
      400,
      "InvalidResourceLocation",
      `The resource '${name}' already exists in location '${existing}' in resource group '${resourceGroup}'. A resource with the same name cannot be created in location '${requested}'. Please select a new resource name.`,
    ),
  invalidRequestContent: (message: string) => new ArmError(400, "InvalidRequestContent", message),
  unsupportedRoute: (method: string, path: string) => new ArmError(404, "NotFound", `The emulator does not implement ${method} ${path}.`),
};
