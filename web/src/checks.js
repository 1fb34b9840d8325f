// The 17 audit checks: console titles, severities and the mitigation action types each
// check supports (AWS IoT Device Defender's audit check to mitigation action mapping).
const SNS = 'PUBLISH_FINDING_TO_SNS';
const CERT = ['UPDATE_DEVICE_CERTIFICATE', 'ADD_THINGS_TO_THING_GROUP'];
export const CHECKS = {
  AUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK: ['Authenticated Cognito role overly permissive', 'CRITICAL', []],
  CA_CERTIFICATE_EXPIRING_CHECK: ['CA certificate expiring', 'MEDIUM', ['UPDATE_CA_CERTIFICATE']],
  CA_CERTIFICATE_KEY_QUALITY_CHECK: ['CA certificate key quality', 'CRITICAL', ['UPDATE_CA_CERTIFICATE']],
  CONFLICTING_CLIENT_IDS_CHECK: ['Conflicting MQTT client IDs', 'HIGH', []],
  DEVICE_CERTIFICATE_EXPIRING_CHECK: ['Device certificate expiring', 'MEDIUM', CERT],
  DEVICE_CERTIFICATE_KEY_QUALITY_CHECK: ['Device certificate key quality', 'CRITICAL', CERT],
  DEVICE_CERTIFICATE_SHARED_CHECK: ['Device certificate shared', 'CRITICAL', CERT],
  INTERMEDIATE_CA_REVOKED_FOR_ACTIVE_DEVICE_CERTIFICATES_CHECK: ['Intermediate CA revoked for active device certificates', 'CRITICAL', CERT],
  IOT_POLICY_OVERLY_PERMISSIVE_CHECK: ['IoT policy overly permissive', 'CRITICAL', ['REPLACE_DEFAULT_POLICY_VERSION']],
  IOT_ROLE_ALIAS_ALLOWS_ACCESS_TO_UNUSED_SERVICES_CHECK: ['Role alias allows access to unused services', 'MEDIUM', []],
  IOT_ROLE_ALIAS_OVERLY_PERMISSIVE_CHECK: ['Role alias overly permissive', 'CRITICAL', []],
  LOGGING_DISABLED_CHECK: ['Logging disabled', 'LOW', ['ENABLE_IOT_LOGGING']],
  REVOKED_CA_CERTIFICATE_STILL_ACTIVE_CHECK: ['Revoked CA certificate still active', 'CRITICAL', ['UPDATE_CA_CERTIFICATE']],
  REVOKED_DEVICE_CERTIFICATE_STILL_ACTIVE_CHECK: ['Revoked device certificate still active', 'MEDIUM', CERT],
  UNAUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK: ['Unauthenticated Cognito role overly permissive', 'CRITICAL', []],
  IOT_POLICY_POTENTIAL_MISCONFIGURATION_CHECK: ['IoT policy potential misconfiguration', 'MEDIUM', []],
  DEVICE_CERTIFICATE_AGE_CHECK: ['Device certificate age', 'LOW', CERT],
  IOT_POLICY_UNRESTRICTED_CHECK: ['IoT policy unrestricted', 'CRITICAL', ['REPLACE_DEFAULT_POLICY_VERSION']],
  CA_CERT_APPROACHING_EXPIRATION_CHECK: ['CA certificate expiring', 'MEDIUM', ['UPDATE_CA_CERTIFICATE']],
  DEVICE_CERT_APPROACHING_EXPIRATION_CHECK: ['Device certificate expiring', 'MEDIUM', CERT],
  REVOKED_CA_CERT_CHECK: ['Revoked CA certificate still active', 'CRITICAL', ['UPDATE_CA_CERTIFICATE']],
  REVOKED_DEVICE_CERT_CHECK: ['Revoked device certificate still active', 'MEDIUM', CERT],
};

export function checkTitle(name) {
  return (CHECKS[name] && CHECKS[name][0]) || name;
}

export function checkSeverity(name) {
  return (CHECKS[name] && CHECKS[name][1]) || 'LOW';
}

export function actionTypesFor(name) {
  return [SNS, ...((CHECKS[name] && CHECKS[name][2]) || [])];
}

export const SEVERITY_ORDER = { CRITICAL: 0, HIGH: 1, MEDIUM: 2, LOW: 3 };

export const ACTION_TYPES = {
  UPDATE_DEVICE_CERTIFICATE: { label: 'Update device certificate', permissions: ['iot:UpdateCertificate'] },
  UPDATE_CA_CERTIFICATE: { label: 'Update CA certificate', permissions: ['iot:UpdateCACertificate'] },
  ADD_THINGS_TO_THING_GROUP: {
    label: 'Add things to thing group',
    permissions: ['iot:ListPrincipalThings', 'iot:AddThingToThingGroup'],
  },
  REPLACE_DEFAULT_POLICY_VERSION: { label: 'Replace default policy version', permissions: ['iot:CreatePolicyVersion'] },
  ENABLE_IOT_LOGGING: { label: 'Enable IoT logging', permissions: ['iot:SetV2LoggingOptions', 'iam:PassRole'] },
  PUBLISH_FINDING_TO_SNS: { label: 'Publish finding to SNS', permissions: ['sns:Publish'] },
};

export const PARAM_KEYS = {
  UPDATE_DEVICE_CERTIFICATE: 'updateDeviceCertificateParams',
  UPDATE_CA_CERTIFICATE: 'updateCACertificateParams',
  ADD_THINGS_TO_THING_GROUP: 'addThingsToThingGroupParams',
  REPLACE_DEFAULT_POLICY_VERSION: 'replaceDefaultPolicyVersionParams',
  ENABLE_IOT_LOGGING: 'enableIoTLoggingParams',
  PUBLISH_FINDING_TO_SNS: 'publishFindingToSnsParams',
};
