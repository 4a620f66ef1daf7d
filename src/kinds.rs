//! The kinds the operator serves, in one list. Every place that needs each
//! kind (its CRD, its watch and cache, its controller, `plan`, the admission
//! webhook) expands this list, so adding a kind is its folders (`api/`,
//! `controller/`) and one line here.

/// Calls `$then!` with every kind as `field: Kind => module`: the name its
/// cache goes by in `Stores`, its type in `crate::api`, its folder in
/// `crate::controller`. In the order they depend on each other, which is
/// the order of their CRDs.
macro_rules! for_each_kind {
    ($then:ident) => {
        $then! {
            accounts: AwsAccount => aws_account,
            roles: CrossAccountRole => cross_account_role,
            groups: DeveloperGroup => developer_group,
            partners: PartnerAccess => partner_access,
            ous: OrganizationalUnit => organizational_unit,
            policies: ServiceControlPolicy => service_control_policy,
            users: IamUser => iam_user,
            requests: AccessRequest => access_request,
            approvals: AccessApproval => access_approval,
        }
    };
}
pub(crate) use for_each_kind;
