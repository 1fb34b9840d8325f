/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Caller authorization (see dd_authz.h): the operation table, the resource ARN of a
 * request, the per-thread cache of users' compiled identity policies, and the decision
 * (the operation's action on its resource and on the further resources of also_resources,
 * then iam:PassRole on every role the input hands to the service). Policy evaluation is
 * the policy engine's (dd_policy_evaluate), the same that checks the audit and mitigation
 * roles' permissions.
 */
#include "server/dd_authz.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dd/iam.h"
#include "dd/policy.h"

/* Actions are "<service prefix>:<operation>" and resources follow AWS's service
 * authorization reference for AWS IoT, IAM, SNS and Cognito identity. "*" is used where
 * the reference lists no resource type (List*, the audit configuration and audit tasks,
 * findings, logging, endpoints, certificate creation, suppressions) and, marked "unsure",
 * where the reference names a resource this server cannot derive from the input alone
 * (sns:Unsubscribe and sns:GetSubscriptionAttributes act on the subscription's topic;
 * iot:AttachPolicy / DetachPolicy list the policy as resource here, AWS also the
 * target). sts:GetCallerIdentity needs no permission in AWS: it is always allowed. */
const struct dd_authz_entry dd_authz_table[] = {
	{ "iot", "AddThingToThingGroup", "iot:AddThingToThingGroup", "{P}thinggroup/{thingGroupName}", NULL },
	{ "iot", "AttachPolicy", "iot:AttachPolicy", "{P}policy/{policyName}", NULL },
	{ "iot", "AttachThingPrincipal", "iot:AttachThingPrincipal", "{P}thing/{thingName}", NULL },
	{ "iot", "CancelAuditMitigationActionsTask", "iot:CancelAuditMitigationActionsTask", "*", NULL },
	{ "iot", "CancelAuditTask", "iot:CancelAuditTask", "*", NULL },
	{ "iot", "CreateAuditSuppression", "iot:CreateAuditSuppression", "*", NULL },
	{ "iot", "CreateCertificateFromCsr", "iot:CreateCertificateFromCsr", "*", NULL },
	{ "iot", "CreateDynamicThingGroup", "iot:CreateDynamicThingGroup", "{P}thinggroup/{thingGroupName}", NULL },
	{ "iot", "CreateKeysAndCertificate", "iot:CreateKeysAndCertificate", "*", NULL },
	{ "iot", "CreateMitigationAction", "iot:CreateMitigationAction", "{P}mitigationaction/{actionName}", "roleArn" },
	{ "iot", "CreatePolicy", "iot:CreatePolicy", "{P}policy/{policyName}", NULL },
	{ "iot", "CreatePolicyVersion", "iot:CreatePolicyVersion", "{P}policy/{policyName}", NULL },
	{ "iot", "CreateRoleAlias", "iot:CreateRoleAlias", "{P}rolealias/{roleAlias}", "roleArn" },
	{ "iot", "CreateScheduledAudit", "iot:CreateScheduledAudit", "{P}scheduledaudit/{scheduledAuditName}", NULL },
	{ "iot", "CreateThing", "iot:CreateThing", "{P}thing/{thingName}", NULL },
	{ "iot", "CreateThingGroup", "iot:CreateThingGroup", "{P}thinggroup/{thingGroupName}", NULL },
	{ "iot", "DeleteAccountAuditConfiguration", "iot:DeleteAccountAuditConfiguration", "*", NULL },
	{ "iot", "DeleteAuditSuppression", "iot:DeleteAuditSuppression", "*", NULL },
	{ "iot", "DeleteCACertificate", "iot:DeleteCACertificate", "{P}cacert/{certificateId}", NULL },
	{ "iot", "DeleteCertificate", "iot:DeleteCertificate", "{P}cert/{certificateId}", NULL },
	{ "iot", "DeleteDynamicThingGroup", "iot:DeleteDynamicThingGroup", "{P}thinggroup/{thingGroupName}", NULL },
	{ "iot", "DeleteMitigationAction", "iot:DeleteMitigationAction", "{P}mitigationaction/{actionName}", NULL },
	{ "iot", "DeletePolicy", "iot:DeletePolicy", "{P}policy/{policyName}", NULL },
	{ "iot", "DeletePolicyVersion", "iot:DeletePolicyVersion", "{P}policy/{policyName}", NULL },
	{ "iot", "DeleteRoleAlias", "iot:DeleteRoleAlias", "{P}rolealias/{roleAlias}", NULL },
	{ "iot", "DeleteScheduledAudit", "iot:DeleteScheduledAudit", "{P}scheduledaudit/{scheduledAuditName}", NULL },
	{ "iot", "DeleteThing", "iot:DeleteThing", "{P}thing/{thingName}", NULL },
	{ "iot", "DeleteThingGroup", "iot:DeleteThingGroup", "{P}thinggroup/{thingGroupName}", NULL },
	{ "iot", "DeleteV2LoggingLevel", "iot:DeleteV2LoggingLevel", "*", NULL },
	{ "iot", "DescribeAccountAuditConfiguration", "iot:DescribeAccountAuditConfiguration", "*", NULL },
	{ "iot", "DescribeAuditFinding", "iot:DescribeAuditFinding", "*", NULL },
	{ "iot", "DescribeAuditMitigationActionsTask", "iot:DescribeAuditMitigationActionsTask", "*", NULL },
	{ "iot", "DescribeAuditSuppression", "iot:DescribeAuditSuppression", "*", NULL },
	{ "iot", "DescribeAuditTask", "iot:DescribeAuditTask", "*", NULL },
	{ "iot", "DescribeCACertificate", "iot:DescribeCACertificate", "{P}cacert/{certificateId}", NULL },
	{ "iot", "DescribeCertificate", "iot:DescribeCertificate", "{P}cert/{certificateId}", NULL },
	{ "iot", "DescribeEndpoint", "iot:DescribeEndpoint", "*", NULL },
	{ "iot", "DescribeMitigationAction", "iot:DescribeMitigationAction", "{P}mitigationaction/{actionName}", NULL },
	{ "iot", "DescribeRoleAlias", "iot:DescribeRoleAlias", "{P}rolealias/{roleAlias}", NULL },
	{ "iot", "DescribeScheduledAudit", "iot:DescribeScheduledAudit", "{P}scheduledaudit/{scheduledAuditName}", NULL },
	{ "iot", "DescribeThing", "iot:DescribeThing", "{P}thing/{thingName}", NULL },
	{ "iot", "DescribeThingGroup", "iot:DescribeThingGroup", "{P}thinggroup/{thingGroupName}", NULL },
	{ "iot", "DetachPolicy", "iot:DetachPolicy", "{P}policy/{policyName}", NULL },
	{ "iot", "DetachThingPrincipal", "iot:DetachThingPrincipal", "{P}thing/{thingName}", NULL },
	{ "iot", "GetEffectivePolicies", "iot:GetEffectivePolicies", "*", NULL },
	{ "iot", "GetLoggingOptions", "iot:GetLoggingOptions", "*", NULL },
	{ "iot", "GetPolicy", "iot:GetPolicy", "{P}policy/{policyName}", NULL },
	{ "iot", "GetPolicyVersion", "iot:GetPolicyVersion", "{P}policy/{policyName}", NULL },
	{ "iot", "GetRegistrationCode", "iot:GetRegistrationCode", "*", NULL },
	{ "iot", "GetV2LoggingOptions", "iot:GetV2LoggingOptions", "*", NULL },
	{ "iot", "ListAttachedPolicies", "iot:ListAttachedPolicies", "*", NULL },
	{ "iot", "ListAuditFindings", "iot:ListAuditFindings", "*", NULL },
	{ "iot", "ListAuditMitigationActionsExecutions", "iot:ListAuditMitigationActionsExecutions", "*", NULL },
	{ "iot", "ListAuditMitigationActionsTasks", "iot:ListAuditMitigationActionsTasks", "*", NULL },
	{ "iot", "ListAuditSuppressions", "iot:ListAuditSuppressions", "*", NULL },
	{ "iot", "ListAuditTasks", "iot:ListAuditTasks", "*", NULL },
	{ "iot", "ListCACertificates", "iot:ListCACertificates", "*", NULL },
	{ "iot", "ListCertificates", "iot:ListCertificates", "*", NULL },
	{ "iot", "ListCertificatesByCA", "iot:ListCertificatesByCA", "{P}cacert/{caCertificateId}", NULL },
	{ "iot", "ListMitigationActions", "iot:ListMitigationActions", "*", NULL },
	{ "iot", "ListPolicies", "iot:ListPolicies", "*", NULL },
	{ "iot", "ListPolicyVersions", "iot:ListPolicyVersions", "{P}policy/{policyName}", NULL },
	{ "iot", "ListPrincipalThings", "iot:ListPrincipalThings", "*", NULL },
	{ "iot", "ListRelatedResourcesForAuditFinding", "iot:ListRelatedResourcesForAuditFinding", "*", NULL },
	{ "iot", "ListRoleAliases", "iot:ListRoleAliases", "*", NULL },
	{ "iot", "ListScheduledAudits", "iot:ListScheduledAudits", "*", NULL },
	{ "iot", "ListTagsForResource", "iot:ListTagsForResource", "{resourceArn}", NULL },
	{ "iot", "ListTargetsForPolicy", "iot:ListTargetsForPolicy", "{P}policy/{policyName}", NULL },
	{ "iot", "ListThingGroups", "iot:ListThingGroups", "*", NULL },
	{ "iot", "ListThingGroupsForThing", "iot:ListThingGroupsForThing", "{P}thing/{thingName}", NULL },
	{ "iot", "ListThingPrincipals", "iot:ListThingPrincipals", "{P}thing/{thingName}", NULL },
	{ "iot", "ListThings", "iot:ListThings", "*", NULL },
	{ "iot", "ListThingsInThingGroup", "iot:ListThingsInThingGroup", "{P}thinggroup/{thingGroupName}", NULL },
	{ "iot", "ListV2LoggingLevels", "iot:ListV2LoggingLevels", "*", NULL },
	{ "iot", "RegisterCACertificate", "iot:RegisterCACertificate", "*", NULL },
	{ "iot", "RegisterCertificate", "iot:RegisterCertificate", "*", NULL },
	{ "iot", "RegisterCertificateWithoutCA", "iot:RegisterCertificateWithoutCA", "*", NULL },
	{ "iot", "RemoveThingFromThingGroup", "iot:RemoveThingFromThingGroup", "{P}thinggroup/{thingGroupName}", NULL },
	{ "iot", "SetDefaultPolicyVersion", "iot:SetDefaultPolicyVersion", "{P}policy/{policyName}", NULL },
	{ "iot", "SetLoggingOptions", "iot:SetLoggingOptions", "*", "loggingOptionsPayload.roleArn" },
	{ "iot", "SetV2LoggingLevel", "iot:SetV2LoggingLevel", "*", NULL },
	{ "iot", "SetV2LoggingOptions", "iot:SetV2LoggingOptions", "*", "roleArn" },
	{ "iot", "StartAuditMitigationActionsTask", "iot:StartAuditMitigationActionsTask", "*", NULL },
	{ "iot", "StartOnDemandAuditTask", "iot:StartOnDemandAuditTask", "*", NULL },
	{ "iot", "TagResource", "iot:TagResource", "{resourceArn}", NULL },
	{ "iot", "TestAuthorization", "iot:TestAuthorization", "*", NULL },
	{ "iot", "UntagResource", "iot:UntagResource", "{resourceArn}", NULL },
	{ "iot", "UpdateAccountAuditConfiguration", "iot:UpdateAccountAuditConfiguration", "*", "roleArn auditNotificationTargetConfigurations.*.roleArn" },
	{ "iot", "UpdateAuditSuppression", "iot:UpdateAuditSuppression", "*", NULL },
	{ "iot", "UpdateCACertificate", "iot:UpdateCACertificate", "{P}cacert/{certificateId}", NULL },
	{ "iot", "UpdateCertificate", "iot:UpdateCertificate", "{P}cert/{certificateId}", NULL },
	{ "iot", "UpdateDynamicThingGroup", "iot:UpdateDynamicThingGroup", "{P}thinggroup/{thingGroupName}", NULL },
	{ "iot", "UpdateMitigationAction", "iot:UpdateMitigationAction", "{P}mitigationaction/{actionName}", "roleArn" },
	{ "iot", "UpdateRoleAlias", "iot:UpdateRoleAlias", "{P}rolealias/{roleAlias}", "roleArn" },
	{ "iot", "UpdateScheduledAudit", "iot:UpdateScheduledAudit", "{P}scheduledaudit/{scheduledAuditName}", NULL },
	{ "iot", "UpdateThing", "iot:UpdateThing", "{P}thing/{thingName}", NULL },
	{ "iot", "UpdateThingGroup", "iot:UpdateThingGroup", "{P}thinggroup/{thingGroupName}", NULL },
	{ "iot", "UpdateThingGroupsForThing", "iot:UpdateThingGroupsForThing", "{P}thing/{thingName}", NULL },
	{ "iam", "AddUserToGroup", "iam:AddUserToGroup", "{P}group/{GroupName}", NULL },
	{ "iam", "AttachGroupPolicy", "iam:AttachGroupPolicy", "{P}group/{GroupName}", NULL },
	{ "iam", "AttachRolePolicy", "iam:AttachRolePolicy", "{P}role/{RoleName}", NULL },
	{ "iam", "AttachUserPolicy", "iam:AttachUserPolicy", "{P}user/{UserName}", NULL },
	{ "iam", "CreateAccessKey", "iam:CreateAccessKey", "{P}user/{UserName}", NULL },
	{ "iam", "CreateGroup", "iam:CreateGroup", "{P}group/{GroupName}", NULL },
	{ "iam", "CreatePolicy", "iam:CreatePolicy", "{P}policy/{PolicyName}", NULL },
	{ "iam", "CreatePolicyVersion", "iam:CreatePolicyVersion", "{PolicyArn}", NULL },
	{ "iam", "CreateRole", "iam:CreateRole", "{P}role/{RoleName}", NULL },
	{ "iam", "CreateUser", "iam:CreateUser", "{P}user/{UserName}", NULL },
	{ "iam", "DeleteAccessKey", "iam:DeleteAccessKey", "{P}user/{UserName}", NULL },
	{ "iam", "DeleteGroup", "iam:DeleteGroup", "{P}group/{GroupName}", NULL },
	{ "iam", "DeleteGroupPolicy", "iam:DeleteGroupPolicy", "{P}group/{GroupName}", NULL },
	{ "iam", "DeletePolicy", "iam:DeletePolicy", "{PolicyArn}", NULL },
	{ "iam", "DeletePolicyVersion", "iam:DeletePolicyVersion", "{PolicyArn}", NULL },
	{ "iam", "DeleteRole", "iam:DeleteRole", "{P}role/{RoleName}", NULL },
	{ "iam", "DeleteRolePolicy", "iam:DeleteRolePolicy", "{P}role/{RoleName}", NULL },
	{ "iam", "DeleteUser", "iam:DeleteUser", "{P}user/{UserName}", NULL },
	{ "iam", "DeleteUserPolicy", "iam:DeleteUserPolicy", "{P}user/{UserName}", NULL },
	{ "iam", "DetachGroupPolicy", "iam:DetachGroupPolicy", "{P}group/{GroupName}", NULL },
	{ "iam", "DetachRolePolicy", "iam:DetachRolePolicy", "{P}role/{RoleName}", NULL },
	{ "iam", "DetachUserPolicy", "iam:DetachUserPolicy", "{P}user/{UserName}", NULL },
	{ "iam", "GetGroup", "iam:GetGroup", "{P}group/{GroupName}", NULL },
	{ "iam", "GetGroupPolicy", "iam:GetGroupPolicy", "{P}group/{GroupName}", NULL },
	{ "iam", "GetPolicy", "iam:GetPolicy", "{PolicyArn}", NULL },
	{ "iam", "GetPolicyVersion", "iam:GetPolicyVersion", "{PolicyArn}", NULL },
	{ "iam", "GetRole", "iam:GetRole", "{P}role/{RoleName}", NULL },
	{ "iam", "GetRolePolicy", "iam:GetRolePolicy", "{P}role/{RoleName}", NULL },
	{ "iam", "GetUser", "iam:GetUser", "{P}user/{UserName}", NULL },
	{ "iam", "GetUserPolicy", "iam:GetUserPolicy", "{P}user/{UserName}", NULL },
	{ "iam", "ListAccessKeys", "iam:ListAccessKeys", "{P}user/{UserName}", NULL },
	{ "iam", "ListAttachedGroupPolicies", "iam:ListAttachedGroupPolicies", "{P}group/{GroupName}", NULL },
	{ "iam", "ListAttachedRolePolicies", "iam:ListAttachedRolePolicies", "{P}role/{RoleName}", NULL },
	{ "iam", "ListAttachedUserPolicies", "iam:ListAttachedUserPolicies", "{P}user/{UserName}", NULL },
	{ "iam", "ListGroupPolicies", "iam:ListGroupPolicies", "{P}group/{GroupName}", NULL },
	{ "iam", "ListGroupsForUser", "iam:ListGroupsForUser", "{P}user/{UserName}", NULL },
	{ "iam", "ListPolicies", "iam:ListPolicies", "*", NULL },
	{ "iam", "ListPolicyVersions", "iam:ListPolicyVersions", "{PolicyArn}", NULL },
	{ "iam", "ListRolePolicies", "iam:ListRolePolicies", "{P}role/{RoleName}", NULL },
	{ "iam", "ListRoleTags", "iam:ListRoleTags", "{P}role/{RoleName}", NULL },
	{ "iam", "ListRoles", "iam:ListRoles", "*", NULL },
	{ "iam", "ListUserPolicies", "iam:ListUserPolicies", "{P}user/{UserName}", NULL },
	{ "iam", "ListUsers", "iam:ListUsers", "*", NULL },
	{ "iam", "PutGroupPolicy", "iam:PutGroupPolicy", "{P}group/{GroupName}", NULL },
	{ "iam", "PutRolePolicy", "iam:PutRolePolicy", "{P}role/{RoleName}", NULL },
	{ "iam", "PutUserPolicy", "iam:PutUserPolicy", "{P}user/{UserName}", NULL },
	{ "iam", "RemoveUserFromGroup", "iam:RemoveUserFromGroup", "{P}group/{GroupName}", NULL },
	{ "iam", "TagRole", "iam:TagRole", "{P}role/{RoleName}", NULL },
	{ "iam", "UntagRole", "iam:UntagRole", "{P}role/{RoleName}", NULL },
	{ "iam", "UpdateAccessKey", "iam:UpdateAccessKey", "{P}user/{UserName}", NULL },
	{ "iam", "UpdateAssumeRolePolicy", "iam:UpdateAssumeRolePolicy", "{P}role/{RoleName}", NULL },
	{ "sns", "ConfirmSubscription", "sns:ConfirmSubscription", "{TopicArn}", NULL },
	{ "sns", "CreateTopic", "sns:CreateTopic", "{P}{Name}", NULL },
	{ "sns", "DeleteTopic", "sns:DeleteTopic", "{TopicArn}", NULL },
	{ "sns", "GetSubscriptionAttributes", "sns:GetSubscriptionAttributes", "*", NULL },
	{ "sns", "GetTopicAttributes", "sns:GetTopicAttributes", "{TopicArn}", NULL },
	{ "sns", "ListSubscriptions", "sns:ListSubscriptions", "*", NULL },
	{ "sns", "ListSubscriptionsByTopic", "sns:ListSubscriptionsByTopic", "{TopicArn}", NULL },
	{ "sns", "ListTopics", "sns:ListTopics", "*", NULL },
	{ "sns", "Publish", "sns:Publish", "{TopicArn|TargetArn}", NULL },
	{ "sns", "SetTopicAttributes", "sns:SetTopicAttributes", "{TopicArn}", NULL },
	{ "sns", "Subscribe", "sns:Subscribe", "{TopicArn}", NULL },
	{ "sns", "Unsubscribe", "sns:Unsubscribe", "*", NULL },
	{ "cognito-identity", "CreateIdentityPool", "cognito-identity:CreateIdentityPool", "*", NULL },
	{ "cognito-identity", "DeleteIdentityPool", "cognito-identity:DeleteIdentityPool", "{P}identitypool/{IdentityPoolId}", NULL },
	{ "cognito-identity", "DescribeIdentityPool", "cognito-identity:DescribeIdentityPool", "{P}identitypool/{IdentityPoolId}", NULL },
	{ "cognito-identity", "GetId", "cognito-identity:GetId", "*", NULL },
	{ "cognito-identity", "GetIdentityPoolRoles", "cognito-identity:GetIdentityPoolRoles", "{P}identitypool/{IdentityPoolId}", NULL },
	{ "cognito-identity", "ListIdentityPools", "cognito-identity:ListIdentityPools", "*", NULL },
	{ "cognito-identity", "SetIdentityPoolRoles", "cognito-identity:SetIdentityPoolRoles", "{P}identitypool/{IdentityPoolId}", "Roles.*" },
	{ "cognito-identity", "UpdateIdentityPool", "cognito-identity:UpdateIdentityPool", "{P}identitypool/{IdentityPoolId}", NULL },
	{ "sts", "GetCallerIdentity", "sts:GetCallerIdentity", "*", NULL },
	/* the control plane (thing types, billing groups, principals, rules, domain
	 * configurations) and iot-data: resources as in AWS's service authorization reference */
	{ "iot", "AddThingToBillingGroup", "iot:AddThingToBillingGroup", "{P}thing/{thingName}", NULL },
	{ "iot", "AttachPrincipalPolicy", "iot:AttachPrincipalPolicy", "{P}policy/{policyName}", NULL },
	{ "iot", "CreateBillingGroup", "iot:CreateBillingGroup", "{P}billinggroup/{billingGroupName}", NULL },
	{ "iot", "CreateDomainConfiguration", "iot:CreateDomainConfiguration", "{P}domainconfiguration/{domainConfigurationName}", NULL },
	{ "iot", "CreateThingType", "iot:CreateThingType", "{P}thingtype/{thingTypeName}", NULL },
	{ "iot", "CreateTopicRule", "iot:CreateTopicRule", "{P}rule/{ruleName}", NULL },
	{ "iot", "DeleteBillingGroup", "iot:DeleteBillingGroup", "{P}billinggroup/{billingGroupName}", NULL },
	{ "iot", "DeleteDomainConfiguration", "iot:DeleteDomainConfiguration", "{P}domainconfiguration/{domainConfigurationName}", NULL },
	{ "iot", "DeleteThingType", "iot:DeleteThingType", "{P}thingtype/{thingTypeName}", NULL },
	{ "iot", "DeleteTopicRule", "iot:DeleteTopicRule", "{P}rule/{ruleName}", NULL },
	{ "iot", "DeprecateThingType", "iot:DeprecateThingType", "{P}thingtype/{thingTypeName}", NULL },
	{ "iot", "DescribeBillingGroup", "iot:DescribeBillingGroup", "{P}billinggroup/{billingGroupName}", NULL },
	{ "iot", "DescribeDomainConfiguration", "iot:DescribeDomainConfiguration", "{P}domainconfiguration/{domainConfigurationName}", NULL },
	{ "iot", "DescribeThingType", "iot:DescribeThingType", "{P}thingtype/{thingTypeName}", NULL },
	{ "iot", "DetachPrincipalPolicy", "iot:DetachPrincipalPolicy", "{P}policy/{policyName}", NULL },
	{ "iot", "DisableTopicRule", "iot:DisableTopicRule", "{P}rule/{ruleName}", NULL },
	{ "iot", "EnableTopicRule", "iot:EnableTopicRule", "{P}rule/{ruleName}", NULL },
	{ "iot", "GetTopicRule", "iot:GetTopicRule", "{P}rule/{ruleName}", NULL },
	{ "iot", "ListBillingGroups", "iot:ListBillingGroups", "*", NULL },
	{ "iot", "ListDomainConfigurations", "iot:ListDomainConfigurations", "*", NULL },
	{ "iot", "ListPolicyPrincipals", "iot:ListPolicyPrincipals", "{P}policy/{policyName}", NULL },
	{ "iot", "ListPrincipalPolicies", "iot:ListPrincipalPolicies", "*", NULL },
	{ "iot", "ListPrincipalThingsV2", "iot:ListPrincipalThingsV2", "*", NULL },
	{ "iot", "ListThingPrincipalsV2", "iot:ListThingPrincipalsV2", "{P}thing/{thingName}", NULL },
	{ "iot", "ListThingTypes", "iot:ListThingTypes", "*", NULL },
	{ "iot", "ListThingsInBillingGroup", "iot:ListThingsInBillingGroup", "{P}billinggroup/{billingGroupName}", NULL },
	{ "iot", "ListTopicRules", "iot:ListTopicRules", "*", NULL },
	{ "iot", "RemoveThingFromBillingGroup", "iot:RemoveThingFromBillingGroup", "{P}thing/{thingName}", NULL },
	{ "iot", "ReplaceTopicRule", "iot:ReplaceTopicRule", "{P}rule/{ruleName}", NULL },
	{ "iot", "UpdateBillingGroup", "iot:UpdateBillingGroup", "{P}billinggroup/{billingGroupName}", NULL },
	{ "iot", "UpdateDomainConfiguration", "iot:UpdateDomainConfiguration", "{P}domainconfiguration/{domainConfigurationName}", NULL },
	{ "iot", "UpdateThingType", "iot:UpdateThingType", "{P}thingtype/{thingTypeName}", NULL },
	/* fleet indexing: the index resource (an absent indexName, AWS_Things by default, reads "*") */
	{ "iot", "DescribeIndex", "iot:DescribeIndex", "{P}index/{indexName}", NULL },
	{ "iot", "GetBucketsAggregation", "iot:GetBucketsAggregation", "{P}index/{indexName}", NULL },
	{ "iot", "GetCardinality", "iot:GetCardinality", "{P}index/{indexName}", NULL },
	{ "iot", "GetIndexingConfiguration", "iot:GetIndexingConfiguration", "*", NULL },
	{ "iot", "GetPercentiles", "iot:GetPercentiles", "{P}index/{indexName}", NULL },
	{ "iot", "GetStatistics", "iot:GetStatistics", "{P}index/{indexName}", NULL },
	{ "iot", "ListIndices", "iot:ListIndices", "*", NULL },
	{ "iot", "SearchIndex", "iot:SearchIndex", "{P}index/{indexName}", NULL },
	{ "iot", "UpdateIndexingConfiguration", "iot:UpdateIndexingConfiguration", "*", NULL },
	{ "iotdata", "DeleteConnection", "iot:DeleteConnection", "{P}client/{clientId}", NULL },
	/* jobs and job templates: the action on the job (or template, or the thing of an
	 * execution); also_resources below adds the targets and the job of an execution */
	{ "iot", "AssociateTargetsWithJob", "iot:AssociateTargetsWithJob", "{P}job/{jobId}", NULL },
	{ "iot", "CancelJob", "iot:CancelJob", "{P}job/{jobId}", NULL },
	{ "iot", "CancelJobExecution", "iot:CancelJobExecution", "{P}thing/{thingName}", NULL },
	{ "iot", "CreateJob", "iot:CreateJob", "{P}job/{jobId}", "presignedUrlConfig.roleArn" },
	{ "iot", "CreateJobTemplate", "iot:CreateJobTemplate", "{P}jobtemplate/{jobTemplateId}", "presignedUrlConfig.roleArn" },
	{ "iot", "DeleteJob", "iot:DeleteJob", "{P}job/{jobId}", NULL },
	{ "iot", "DeleteJobExecution", "iot:DeleteJobExecution", "{P}thing/{thingName}", NULL },
	{ "iot", "DeleteJobTemplate", "iot:DeleteJobTemplate", "{P}jobtemplate/{jobTemplateId}", NULL },
	{ "iot", "DescribeJob", "iot:DescribeJob", "{P}job/{jobId}", NULL },
	{ "iot", "DescribeJobExecution", "iot:DescribeJobExecution", "{P}thing/{thingName}", NULL },
	{ "iot", "DescribeJobTemplate", "iot:DescribeJobTemplate", "{P}jobtemplate/{jobTemplateId}", NULL },
	{ "iot", "DescribeManagedJobTemplate", "iot:DescribeManagedJobTemplate", "{P}jobtemplate/{templateName}", NULL },
	{ "iot", "GetJobDocument", "iot:GetJobDocument", "{P}job/{jobId}", NULL },
	{ "iot", "ListJobExecutionsForJob", "iot:ListJobExecutionsForJob", "{P}job/{jobId}", NULL },
	{ "iot", "ListJobExecutionsForThing", "iot:ListJobExecutionsForThing", "{P}thing/{thingName}", NULL },
	{ "iot", "ListJobTemplates", "iot:ListJobTemplates", "*", NULL },
	{ "iot", "ListJobs", "iot:ListJobs", "*", NULL },
	{ "iot", "ListManagedJobTemplates", "iot:ListManagedJobTemplates", "*", NULL },
	{ "iot", "UpdateJob", "iot:UpdateJob", "{P}job/{jobId}", "presignedUrlConfig.roleArn" },
	{ NULL, NULL, NULL, NULL, NULL },
};

/* Further resources some operations act on, checked with the same action after the
 * table's resource: a resource template (as in the table), and input paths of ARNs ("a.*"
 * walks a list), as AWS's reference lists them (CreateJob also on its target things and
 * groups and its job template; an execution's operations also on the job). */
static const struct {
	const char *service, *op;
	const char *resource; /* NULL: none */
	const char *arn_paths; /* NULL: none */
} also_resources[] = {
	{ "iot", "CreateJob", NULL, "targets.* jobTemplateArn" },
	{ "iot", "AssociateTargetsWithJob", NULL, "targets.*" },
	{ "iot", "CancelJobExecution", "{P}job/{jobId}", NULL },
	{ "iot", "DeleteJobExecution", "{P}job/{jobId}", NULL },
	{ "iot", "CreateJobTemplate", NULL, "jobArn" },
};

const struct dd_authz_entry *dd_authz_find(const char *service, const char *op)
{
	for (const struct dd_authz_entry *e = dd_authz_table; e->service; e++)
		if (strcmp(e->service, service) == 0 && strcmp(e->op, op) == 0)
			return e;
	return NULL;
}

static bool put(char *out, size_t outlen, size_t *n, const char *s, size_t len)
{
	if (*n + len >= outlen)
		return false;
	memcpy(out + *n, s, len);
	*n += len;
	out[*n] = '\0';
	return true;
}

int dd_authz_resource(const struct dd_authz_entry *e, const char *account, const char *region,
		      const char *caller_user, json_t *input, char *out, size_t outlen)
{
	size_t n = 0;
	if (!outlen)
		return DD_ELIMIT;
	out[0] = '\0';
	for (const char *p = e->resource; *p;) {
		const char *close = *p == '{' ? strchr(p, '}') : NULL;
		if (!close) {
			const char *next = strchr(p + 1, '{');
			size_t len = next ? (size_t)(next - p) : strlen(p);
			if (!put(out, outlen, &n, p, len))
				return DD_ELIMIT;
			p += len;
			continue;
		}
		char name[128];
		size_t nl = (size_t)(close - p - 1);
		if (nl >= sizeof name)
			return DD_ELIMIT;
		memcpy(name, p + 1, nl);
		name[nl] = '\0';
		p = close + 1;
		const char *v = NULL;
		char prefix[160];
		if (strcmp(name, "P") == 0) {
			bool global = strcmp(e->service, "iam") == 0 || strcmp(e->service, "sts") == 0;
			/* the iot data plane's resources are iot ARNs (arn:aws:iot:…:client/ID) */
			const char *arn_service = strcmp(e->service, "iotdata") == 0 ? "iot" : e->service;
			snprintf(prefix, sizeof prefix, "arn:aws:%s:%s:%s:", arn_service, global ? "" : region, account);
			v = prefix;
		} else {
			char *save = NULL;
			for (char *alt = strtok_r(name, "|", &save); alt && !v; alt = strtok_r(NULL, "|", &save)) {
				v = json_string_value(json_object_get(input, alt));
				if (!v && strcmp(alt, "UserName") == 0 && strcmp(e->service, "iam") == 0)
					v = caller_user;
			}
			if (!v || !*v)
				v = "*";
		}
		if (!put(out, outlen, &n, v, strlen(v)))
			return DD_ELIMIT;
	}
	return 0;
}

/* ---- per-thread cache of compiled policies ------------------------------------------ */

#define CACHE_SLOTS 32

struct cached {
	char account[13];
	char user[65];
	uint64_t gen;
	bool used;
	struct dd_policy **pols;
	size_t n;
	uint64_t tick;
};

static _Thread_local struct cached cache[CACHE_SLOTS];
static _Thread_local uint64_t cache_tick;

static void slot_clear(struct cached *s)
{
	for (size_t i = 0; i < s->n; i++)
		dd_policy_free(s->pols[i]);
	free(s->pols);
	memset(s, 0, sizeof *s);
}

void dd_authz_cache_clear(void)
{
	for (int i = 0; i < CACHE_SLOTS; i++)
		slot_clear(&cache[i]);
}

/* The cache is freed when its thread exits: a thread-specific key whose destructor runs
 * then (the value is only a marker). */
static pthread_key_t exit_key;
static pthread_once_t exit_once = PTHREAD_ONCE_INIT;
static _Thread_local bool exit_armed;

static void on_thread_exit(void *unused)
{
	(void)unused;
	dd_authz_cache_clear();
}

static void exit_key_init(void)
{
	if (pthread_key_create(&exit_key, on_thread_exit) != 0)
		dd_log_error("authz: no thread-exit hook; policy caches are freed at process exit only");
}

static int load_policies(struct dd_db *db, const char *account, const char *user, struct cached **out)
{
	uint64_t gen = dd_iam_generation();
	if (!exit_armed) {
		pthread_once(&exit_once, exit_key_init);
		exit_armed = pthread_setspecific(exit_key, &exit_armed) == 0;
	}
	struct cached *victim = &cache[0];
	for (int i = 0; i < CACHE_SLOTS; i++) {
		struct cached *s = &cache[i];
		if (s->used && strcmp(s->account, account) == 0 && strcmp(s->user, user) == 0) {
			if (s->gen == gen) {
				s->tick = ++cache_tick;
				*out = s;
				return 0;
			}
			victim = s;
			break;
		}
		if (!s->used || s->tick < victim->tick)
			victim = s;
	}
	slot_clear(victim);
	struct dd_iam_policy_docs docs = { 0 };
	int rc = dd_iam_user_policies(db, account, user, &docs);
	if (rc)
		return rc;
	victim->pols = docs.n ? calloc(docs.n, sizeof *victim->pols) : NULL;
	if (docs.n && !victim->pols) {
		dd_iam_policy_docs_clear(&docs);
		return DD_ENOMEM;
	}
	for (size_t i = 0; i < docs.n; i++) {
		char err[DD_POLICY_ERRMSG_SIZE];
		/* stored documents were validated when written; one that no longer compiles grants nothing */
		if (dd_policy_compile(docs.items[i].document, strlen(docs.items[i].document), DD_POLICY_IAM,
				      &victim->pols[victim->n], err, sizeof err) == 0)
			victim->n++;
	}
	dd_iam_policy_docs_clear(&docs);
	snprintf(victim->account, sizeof victim->account, "%s", account);
	snprintf(victim->user, sizeof victim->user, "%s", user);
	victim->gen = gen;
	victim->used = true;
	victim->tick = ++cache_tick;
	*out = victim;
	return 0;
}

/* ---- the decision ------------------------------------------------------------------- */

struct reqctx {
	const struct dd_authz_caller *who;
	struct cached *pols;
	char arn[256];
	char now_iso[32];
	char epoch[24];
	const char *region;
};

static bool allowed(struct reqctx *r, const char *action, const char *resource)
{
	const char *v_user[] = { r->who->user }, *v_uid[] = { r->who->user_id }, *v_acct[] = { r->who->account };
	const char *v_arn[] = { r->arn }, *v_type[] = { "User" }, *v_now[] = { r->now_iso }, *v_epoch[] = { r->epoch };
	const char *v_region[] = { r->region };
	struct dd_policy_attr keys[] = {
		{ "aws:username", v_user, 1 },       { "aws:userid", v_uid, 1 },
		{ "aws:PrincipalAccount", v_acct, 1 }, { "aws:PrincipalArn", v_arn, 1 },
		{ "aws:PrincipalType", v_type, 1 },  { "aws:CurrentTime", v_now, 1 },
		{ "aws:EpochTime", v_epoch, 1 },     { "aws:RequestedRegion", v_region, 1 },
	};
	struct dd_policy_request req = {
		.action = action, .resource = resource, .source_ip = r->who->source_ip,
		.keys = keys, .n_keys = sizeof keys / sizeof keys[0],
	};
	enum dd_policy_decision d = DD_POLICY_IMPLICIT_DENY;
	if (dd_policy_evaluate((const struct dd_policy *const *)r->pols->pols, r->pols->n, &req, &d, NULL))
		return false;
	return d == DD_POLICY_ALLOW;
}

static void denied(struct reqctx *r, const char *action, const char *resource, char *msg, size_t msglen)
{
	snprintf(msg, msglen, "User: %s is not authorized to perform: %s on resource: %s", r->arn, action, resource);
}

/* Checks action (iam:PassRole, or the operation's own action on further resources) on every
 * string at path (dot-separated, "*" = every element). */
static int arn_walk(struct reqctx *r, const char *action, json_t *v, const char *path, char *msg, size_t msglen)
{
	if (!v)
		return 0;
	if (!*path) {
		const char *arn = json_string_value(v);
		if (arn && !allowed(r, action, arn)) {
			denied(r, action, arn, msg, msglen);
			return DD_EDENIED;
		}
		return 0;
	}
	const char *dot = strchr(path, '.');
	size_t len = dot ? (size_t)(dot - path) : strlen(path);
	const char *rest = dot ? dot + 1 : "";
	char key[64];
	if (len >= sizeof key)
		return 0;
	memcpy(key, path, len);
	key[len] = '\0';
	if (strcmp(key, "*") == 0) {
		if (json_is_array(v)) {
			size_t i;
			json_t *e;
			json_array_foreach(v, i, e)
				if (arn_walk(r, action, e, rest, msg, msglen))
					return DD_EDENIED;
		} else if (json_is_object(v)) {
			const char *k;
			json_t *e;
			json_object_foreach(v, k, e)
				if (arn_walk(r, action, e, rest, msg, msglen))
					return DD_EDENIED;
		}
		return 0;
	}
	return arn_walk(r, action, json_object_get(v, key), rest, msg, msglen);
}

int dd_authz_check(struct dd_db *db, const struct dd_authz_caller *who, const char *service, const char *op,
		   json_t *input, const char *region, int64_t now_ms, char *msg, size_t msglen)
{
	struct reqctx r = { .who = who, .region = region };
	snprintf(r.arn, sizeof r.arn, "arn:aws:iam::%s:user/%s", who->account, who->user);
	const struct dd_authz_entry *e = dd_authz_find(service, op);
	char action[160], resource[1024];
	if (e && strcmp(e->action, "sts:GetCallerIdentity") == 0)
		return 0;
	if (e) {
		snprintf(action, sizeof action, "%s", e->action);
		if (dd_authz_resource(e, who->account, region, who->user, input, resource, sizeof resource))
			snprintf(resource, sizeof resource, "*");
	} else {
		/* an operation missing from the table: its default action on "*" */
		snprintf(action, sizeof action, "%s:%s", service, op);
		snprintf(resource, sizeof resource, "*");
	}
	int rc = load_policies(db, who->account, who->user, &r.pols);
	if (rc == DD_ENOTFOUND) {
		denied(&r, action, resource, msg, msglen);
		return DD_EDENIED;
	}
	if (rc) {
		snprintf(msg, msglen, "The caller's policies could not be loaded");
		return rc;
	}
	time_t secs = (time_t)(now_ms / 1000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	strftime(r.now_iso, sizeof r.now_iso, "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(r.epoch, sizeof r.epoch, "%lld", (long long)secs);
	if (!allowed(&r, action, resource)) {
		denied(&r, action, resource, msg, msglen);
		return DD_EDENIED;
	}
	for (size_t i = 0; e && i < sizeof also_resources / sizeof also_resources[0]; i++) {
		if (strcmp(also_resources[i].service, service) || strcmp(also_resources[i].op, op))
			continue;
		if (also_resources[i].resource) {
			struct dd_authz_entry t = *e;
			t.resource = also_resources[i].resource;
			if (dd_authz_resource(&t, who->account, region, who->user, input, resource, sizeof resource))
				snprintf(resource, sizeof resource, "*");
			if (!allowed(&r, action, resource)) {
				denied(&r, action, resource, msg, msglen);
				return DD_EDENIED;
			}
		}
		if (also_resources[i].arn_paths) {
			char paths[256];
			snprintf(paths, sizeof paths, "%s", also_resources[i].arn_paths);
			char *save = NULL;
			for (char *p = strtok_r(paths, " ", &save); p; p = strtok_r(NULL, " ", &save))
				if (arn_walk(&r, action, input, p, msg, msglen))
					return DD_EDENIED;
		}
	}
	if (e && e->passrole) {
		char paths[256];
		snprintf(paths, sizeof paths, "%s", e->passrole);
		char *save = NULL;
		for (char *p = strtok_r(paths, " ", &save); p; p = strtok_r(NULL, " ", &save))
			if (arn_walk(&r, "iam:PassRole", input, p, msg, msglen))
				return DD_EDENIED;
	}
	return 0;
}
