/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The AWS managed IAM policies the Device Defender flows attach to their roles, preloaded
 * read-only and visible to every account: the audit policy and the six mitigation-action
 * policies (ARNs arn:aws:iam::aws:policy/service-role/<Name>) and AWSIoTLogging. The
 * documents are AWS's (AWSIoTDeviceDefenderAudit v3 is tests/data/policies/examples/
 * aws_managed/; the mitigation ones grant the permissions of the Device Defender guide's
 * "Permissions for mitigation actions" table). Policy ids and dates are fixed stand-ins,
 * not AWS's: nothing may depend on them. Generated once by hand; edit the table to add one.
 */
#include <string.h>

#include "dd/iam.h"

static const char doc_0[] =
	"{\n"
	"    \"Version\": \"2012-10-17\",\n"
	"    \"Statement\": [\n"
	"        {\n"
	"            \"Effect\": \"Allow\",\n"
	"            \"Action\": [\n"
	"                \"iot:GetLoggingOptions\",\n"
	"                \"iot:GetV2LoggingOptions\",\n"
	"                \"iot:ListCACertificates\",\n"
	"                \"iot:ListCertificates\",\n"
	"                \"iot:DescribeCACertificate\",\n"
	"                \"iot:DescribeCertificate\",\n"
	"                \"iot:ListPolicies\",\n"
	"                \"iot:GetPolicy\",\n"
	"                \"iot:GetEffectivePolicies\",\n"
	"                \"iot:ListRoleAliases\",\n"
	"                \"iot:DescribeRoleAlias\",\n"
	"                \"cognito-identity:GetIdentityPoolRoles\",\n"
	"                \"iam:ListRolePolicies\",\n"
	"                \"iam:ListAttachedRolePolicies\",\n"
	"                \"iam:GetRole\",\n"
	"                \"iam:GetPolicy\",\n"
	"                \"iam:GetPolicyVersion\",\n"
	"                \"iam:GetRolePolicy\",\n"
	"                \"iam:GenerateServiceLastAccessedDetails\",\n"
	"                \"iam:GetServiceLastAccessedDetails\"\n"
	"            ],\n"
	"            \"Resource\": [\n"
	"                \"*\"\n"
	"            ]\n"
	"        }\n"
	"    ]\n"
	"}\n";

static const char doc_1[] =
	"{\n"
	"    \"Version\": \"2012-10-17\",\n"
	"    \"Statement\": [\n"
	"        {\n"
	"            \"Effect\": \"Allow\",\n"
	"            \"Action\": [\n"
	"                \"iot:ListPrincipalThings\",\n"
	"                \"iot:AddThingToThingGroup\"\n"
	"            ],\n"
	"            \"Resource\": [\n"
	"                \"*\"\n"
	"            ]\n"
	"        }\n"
	"    ]\n"
	"}\n";

static const char doc_2[] =
	"{\n"
	"    \"Version\": \"2012-10-17\",\n"
	"    \"Statement\": [\n"
	"        {\n"
	"            \"Effect\": \"Allow\",\n"
	"            \"Action\": [\n"
	"                \"iot:CreatePolicyVersion\"\n"
	"            ],\n"
	"            \"Resource\": [\n"
	"                \"*\"\n"
	"            ]\n"
	"        }\n"
	"    ]\n"
	"}\n";

static const char doc_3[] =
	"{\n"
	"    \"Version\": \"2012-10-17\",\n"
	"    \"Statement\": [\n"
	"        {\n"
	"            \"Effect\": \"Allow\",\n"
	"            \"Action\": [\n"
	"                \"iot:UpdateCACertificate\"\n"
	"            ],\n"
	"            \"Resource\": [\n"
	"                \"*\"\n"
	"            ]\n"
	"        }\n"
	"    ]\n"
	"}\n";

static const char doc_4[] =
	"{\n"
	"    \"Version\": \"2012-10-17\",\n"
	"    \"Statement\": [\n"
	"        {\n"
	"            \"Effect\": \"Allow\",\n"
	"            \"Action\": [\n"
	"                \"iot:UpdateCertificate\"\n"
	"            ],\n"
	"            \"Resource\": [\n"
	"                \"*\"\n"
	"            ]\n"
	"        }\n"
	"    ]\n"
	"}\n";

static const char doc_5[] =
	"{\n"
	"    \"Version\": \"2012-10-17\",\n"
	"    \"Statement\": [\n"
	"        {\n"
	"            \"Effect\": \"Allow\",\n"
	"            \"Action\": [\n"
	"                \"iot:SetV2LoggingOptions\"\n"
	"            ],\n"
	"            \"Resource\": [\n"
	"                \"*\"\n"
	"            ]\n"
	"        },\n"
	"        {\n"
	"            \"Effect\": \"Allow\",\n"
	"            \"Action\": [\n"
	"                \"iam:PassRole\"\n"
	"            ],\n"
	"            \"Resource\": [\n"
	"                \"*\"\n"
	"            ],\n"
	"            \"Condition\": {\n"
	"                \"StringEquals\": {\n"
	"                    \"iam:PassedToService\": [\n"
	"                        \"iot.amazonaws.com\"\n"
	"                    ]\n"
	"                }\n"
	"            }\n"
	"        }\n"
	"    ]\n"
	"}\n";

static const char doc_6[] =
	"{\n"
	"    \"Version\": \"2012-10-17\",\n"
	"    \"Statement\": [\n"
	"        {\n"
	"            \"Effect\": \"Allow\",\n"
	"            \"Action\": [\n"
	"                \"sns:Publish\"\n"
	"            ],\n"
	"            \"Resource\": [\n"
	"                \"*\"\n"
	"            ]\n"
	"        }\n"
	"    ]\n"
	"}\n";

static const char doc_7[] =
	"{\n"
	"    \"Version\": \"2012-10-17\",\n"
	"    \"Statement\": [\n"
	"        {\n"
	"            \"Effect\": \"Allow\",\n"
	"            \"Action\": [\n"
	"                \"logs:CreateLogGroup\",\n"
	"                \"logs:CreateLogStream\",\n"
	"                \"logs:PutLogEvents\",\n"
	"                \"logs:PutMetricFilter\",\n"
	"                \"logs:PutRetentionPolicy\",\n"
	"                \"logs:GetLogEvents\",\n"
	"                \"logs:DeleteLogStream\"\n"
	"            ],\n"
	"            \"Resource\": [\n"
	"                \"*\"\n"
	"            ]\n"
	"        }\n"
	"    ]\n"
	"}\n";

static const struct dd_iam_managed_policy managed[] = {
	{ "AWSIoTDeviceDefenderAudit", "arn:aws:iam::aws:policy/service-role/AWSIoTDeviceDefenderAudit", "/service-role/", "ANPACULOLT2XPENUUNKVL", "v3",
	  "Provides read access to IoT and related resources for AWS IoT Device Defender audits.",
	  1531948660000LL, 1638470968000LL, doc_0 },
	{ "AWSIoTDeviceDefenderAddThingsToThingGroupMitigationAction", "arn:aws:iam::aws:policy/service-role/AWSIoTDeviceDefenderAddThingsToThingGroupMitigationAction", "/service-role/", "ANPAPA3KZKOACEOJVLDT7", "v1",
	  "Provides write access to IoT thing groups for the AWS IoT Device Defender ADD_THINGS_TO_THING_GROUP mitigation action.",
	  1555624437000LL, 1555624437000LL, doc_1 },
	{ "AWSIoTDeviceDefenderReplaceDefaultPolicyMitigationAction", "arn:aws:iam::aws:policy/service-role/AWSIoTDeviceDefenderReplaceDefaultPolicyMitigationAction", "/service-role/", "ANPASDO2GDT4RRZ5WKOP2", "v1",
	  "Provides write access to IoT policies for the AWS IoT Device Defender REPLACE_DEFAULT_POLICY_VERSION mitigation action.",
	  1555624473000LL, 1555624473000LL, doc_2 },
	{ "AWSIoTDeviceDefenderUpdateCACertMitigationAction", "arn:aws:iam::aws:policy/service-role/AWSIoTDeviceDefenderUpdateCACertMitigationAction", "/service-role/", "ANPAHR5PLXZ4EYUKZ3EBG", "v1",
	  "Provides write access to IoT CA certificates for the AWS IoT Device Defender UPDATE_CA_CERTIFICATE mitigation action.",
	  1555624500000LL, 1555624500000LL, doc_3 },
	{ "AWSIoTDeviceDefenderUpdateDeviceCertMitigationAction", "arn:aws:iam::aws:policy/service-role/AWSIoTDeviceDefenderUpdateDeviceCertMitigationAction", "/service-role/", "ANPA6SX7FOIEYNLILY2KL", "v1",
	  "Provides write access to IoT certificates for the AWS IoT Device Defender UPDATE_DEVICE_CERTIFICATE mitigation action.",
	  1555624532000LL, 1555624532000LL, doc_4 },
	{ "AWSIoTDeviceDefenderEnableIoTLoggingMitigationAction", "arn:aws:iam::aws:policy/service-role/AWSIoTDeviceDefenderEnableIoTLoggingMitigationAction", "/service-role/", "ANPAZSOPYT6VEKGEUBAH5", "v1",
	  "Provides access to enable IoT logging for the AWS IoT Device Defender ENABLE_IOT_LOGGING mitigation action.",
	  1555624561000LL, 1555624561000LL, doc_5 },
	{ "AWSIoTDeviceDefenderPublishFindingsToSNSMitigationAction", "arn:aws:iam::aws:policy/service-role/AWSIoTDeviceDefenderPublishFindingsToSNSMitigationAction", "/service-role/", "ANPAA55ZAG6ZPJIYF7ZSB", "v1",
	  "Provides access to publish to SNS topics for the AWS IoT Device Defender PUBLISH_FINDING_TO_SNS mitigation action.",
	  1555624591000LL, 1555624591000LL, doc_6 },
	{ "AWSIoTLogging", "arn:aws:iam::aws:policy/service-role/AWSIoTLogging", "/service-role/", "ANPAKCG4ZZO2XFPSMSOSL", "v1",
	  "Allows creation of Amazon CloudWatch Log groups and streaming logs to the groups.",
	  1444317445000LL, 1444317445000LL, doc_7 },
};

#define NMANAGED (sizeof managed / sizeof managed[0])

const struct dd_iam_managed_policy *dd_iam_managed_find(const char *arn)
{
	if (!arn)
		return NULL;
	for (size_t i = 0; i < NMANAGED; i++)
		if (strcmp(managed[i].arn, arn) == 0)
			return &managed[i];
	return NULL;
}

size_t dd_iam_managed_count(void) { return NMANAGED; }

const struct dd_iam_managed_policy *dd_iam_managed_at(size_t i) { return i < NMANAGED ? &managed[i] : NULL; }
