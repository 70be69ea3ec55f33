// The app registration operators sign in to the dashboard and the operator API with (App Service
// Authentication, app/api-settings.bicep), declared with the Microsoft Graph Bicep extension as the
// cross-tenant app is (app/entra.bicep):
//   - single-tenant (AzureADMyOrg), the app's /.auth/login/aad/callback as its redirect URI, ID
//     tokens for Easy Auth's sign-in (no client secret anywhere);
//   - two app roles: GalleryShare.Reader (sees everything) and GalleryShare.Operator (may also act);
//   - its service principal, with assignment required: only users (or apps) given a role get in;
//   - the deploying user is given GalleryShare.Operator, so the first sign-in works.
// The predown hook deletes it with the cross-tenant app (same rule: only what this environment made).
extension microsoftGraphV1

@description('uniqueName of the registration: its key, immutable, unique in the tenant.')
param uniqueName string

@description('Display name of the registration (what the sign-in page shows).')
param displayName string

@description('Host name of the Function App: the redirect URI is https://{host}/.auth/login/aad/callback.')
param appHostName string

@description('Object id of the deploying principal (deployer().objectId): given GalleryShare.Operator; empty gives nobody a role.')
param operatorPrincipalId string = ''

var readerRoleId = guid(uniqueName, 'GalleryShare.Reader')
var operatorRoleId = guid(uniqueName, 'GalleryShare.Operator')

resource signIn 'Microsoft.Graph/applications@v1.0' = {
  uniqueName: uniqueName
  displayName: displayName
  description: 'gallery-share operators: the dashboard and the operator API (App Service Authentication).'
  signInAudience: 'AzureADMyOrg'
  web: {
    redirectUris: [
      'https://${appHostName}/.auth/login/aad/callback'
    ]
    implicitGrantSettings: {
      enableIdTokenIssuance: true
    }
  }
  appRoles: [
    {
      id: readerRoleId
      value: 'GalleryShare.Reader'
      displayName: 'gallery-share reader'
      description: 'Sees the dashboard and the operator API: versions, tenants, access, drift.'
      allowedMemberTypes: [
        'User'
        'Application'
      ]
      isEnabled: true
    }
    {
      id: operatorRoleId
      value: 'GalleryShare.Operator'
      displayName: 'gallery-share operator'
      description: 'Sees everything and may act: retry a publish, revoke a version, change a ring, reconcile.'
      allowedMemberTypes: [
        'User'
        'Application'
      ]
      isEnabled: true
    }
  ]
}

resource signInPrincipal 'Microsoft.Graph/servicePrincipals@v1.0' = {
  appId: signIn.appId
  appRoleAssignmentRequired: true
}

resource deployerOperator 'Microsoft.Graph/appRoleAssignedTo@v1.0' = if (!empty(operatorPrincipalId)) {
  appRoleId: operatorRoleId
  principalId: operatorPrincipalId
  resourceId: signInPrincipal.id
}

output appId string = signIn.appId
output readerRoleId string = readerRoleId
output operatorRoleId string = operatorRoleId
