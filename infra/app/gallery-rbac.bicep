// Role assignments on one managed gallery, deployed at the gallery's resource group (which may be
// in another resource group or subscription than the app). Called only by app/rbac.bicep.
//
//   Compute Gallery Sharing Admin  galleries/share/action: direct sharing (POST .../share, Add /
//                                  Remove / Reset, EnableCommunity). It grants no read at all.
//   Reader (gallery scope only)    galleries/read (sharing profile, permissions), images/read and
//                                  images/versions/read ($expand=ReplicationStatus). "Compute
//                                  Gallery Image Reader" would cover images and versions but not
//                                  the gallery itself, which the share plan reads.
//   Role Based Access Control      only with enablePrincipalSharing: the principal sharing mode
//   Administrator, constrained     grants Reader on the gallery to consumer principals. The ABAC
//                                  condition lets the app create and delete Reader assignments and
//                                  nothing else, so it cannot grant itself or anyone more.
//   Reader for the consumer app    only with consumerAppPrincipalId: the rbac sharing mode reads the
//                                  image with the multi-tenant app's publisher-tenant token.
//   gallery-share version promoter a custom role with one action, galleries/images/versions/write,
//                                  assignable at this gallery only: the app promotes a gated version
//                                  (excludeFromLatest false) and revokes a bad one (true). No built-in
//                                  role is that narrow (Contributor would also delete and share).

@description('Name of the gallery (in this resource group).')
param galleryName string

@description('Object id of the app\'s user-assigned identity.')
param principalId string

@description('Grant the constrained Role Based Access Control Administrator (Reader only).')
param enablePrincipalSharing bool = false

@description('Object id of the multi-tenant app\'s service principal in this tenant, or empty.')
param consumerAppPrincipalId string = ''

var roles = {
  computeGallerySharingAdmin: '1ef6a3be-d0ac-425d-8c01-acb62866290b'
  reader: 'acdd72a7-3385-48ef-bd42-f606fba81ae7'
  roleBasedAccessControlAdministrator: 'f58310d9-a9f6-439a-9e8d-f62e7b41a168'
}

// "Constrain roles" delegation condition: writes and deletes of role assignments are allowed only
// when the assigned role is Reader.
var readerOnlyCondition = '((!(ActionMatches{\'Microsoft.Authorization/roleAssignments/write\'})) OR (@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {${roles.reader}})) AND ((!(ActionMatches{\'Microsoft.Authorization/roleAssignments/delete\'})) OR (@Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {${roles.reader}}))'

resource gallery 'Microsoft.Compute/galleries@2026-03-03' existing = {
  name: galleryName
}

resource sharingAdmin 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(gallery.id, principalId, roles.computeGallerySharingAdmin)
  scope: gallery
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.computeGallerySharingAdmin)
    description: 'gallery-share: direct sharing of this gallery'
  }
}

resource galleryReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(gallery.id, principalId, roles.reader)
  scope: gallery
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.reader)
    description: 'gallery-share: read the sharing profile and replication status'
  }
}

resource readerDelegation 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (enablePrincipalSharing) {
  name: guid(gallery.id, principalId, roles.roleBasedAccessControlAdministrator)
  scope: gallery
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.roleBasedAccessControlAdministrator)
    condition: readerOnlyCondition
    conditionVersion: '2.0'
    description: 'gallery-share: grant and revoke Reader on this gallery (principal sharing), nothing else'
  }
}

resource consumerAppReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(consumerAppPrincipalId)) {
  name: guid(gallery.id, consumerAppPrincipalId, roles.reader)
  scope: gallery
  properties: {
    principalId: consumerAppPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.reader)
    description: 'gallery-share: multi-tenant app reads images for consumer-tenant deployments'
  }
}

// The custom role: defined once per gallery (a role definition lives in the subscription; its
// assignable scope is this gallery alone), with exactly one action.
resource versionPromoter 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(gallery.id, 'gallery-share-version-promoter')
  properties: {
    roleName: 'gallery-share version promoter (${galleryName}, ${take(uniqueString(gallery.id), 8)})'
    description: 'gallery-share: change a gallery image version (excludeFromLatest: promote a gated version, revoke a bad one). Nothing else.'
    type: 'customRole'
    permissions: [
      {
        actions: [
          'Microsoft.Compute/galleries/images/versions/write'
        ]
        notActions: []
        dataActions: []
        notDataActions: []
      }
    ]
    assignableScopes: [
      gallery.id
    ]
  }
}

resource versionPromoterAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(gallery.id, principalId, versionPromoter.id)
  scope: gallery
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: versionPromoter.id
    description: 'gallery-share: promote and revoke image versions (excludeFromLatest) on this gallery'
  }
}
