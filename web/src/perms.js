// What the signed-in identity may do, as the server decides it: the operations the console
// uses are sent to /console/api/permissions, which runs the API's own caller
// authorization (the same action/resource table, policies and evaluator) and answers
// allowed or not for each. Pages hide or disable what is not allowed; the server still
// refuses every call on its own, and a refusal shows as the API's AccessDenied message.
import { createContext, useContext } from 'react';

export const CONSOLE_OPERATIONS = [
  ['iot', 'ListAuditTasks'],
  ['iot', 'DescribeAuditTask'],
  ['iot', 'StartOnDemandAuditTask'],
  ['iot', 'CancelAuditTask'],
  ['iot', 'ListAuditFindings'],
  ['iot', 'DescribeAccountAuditConfiguration'],
  ['iot', 'UpdateAccountAuditConfiguration'],
  ['iot', 'ListScheduledAudits'],
  ['iot', 'CreateScheduledAudit'],
  ['iot', 'UpdateScheduledAudit'],
  ['iot', 'DeleteScheduledAudit'],
  ['iot', 'ListAuditSuppressions'],
  ['iot', 'CreateAuditSuppression'],
  ['iot', 'UpdateAuditSuppression'],
  ['iot', 'DeleteAuditSuppression'],
  ['iot', 'ListMitigationActions'],
  ['iot', 'CreateMitigationAction'],
  ['iot', 'UpdateMitigationAction'],
  ['iot', 'DeleteMitigationAction'],
  ['iot', 'ListAuditMitigationActionsTasks'],
  ['iot', 'StartAuditMitigationActionsTask'],
  ['iot', 'CancelAuditMitigationActionsTask'],
  ['iam', 'CreateRole'],
];

// can(service, operation): true only when the server said allowed. While the answer is
// not in yet, nothing is allowed (controls appear disabled, not wrongly enabled).
export function makeCan(results) {
  return (service, op) => !!(results && results[service + ':' + op]);
}

export const PermsContext = createContext(makeCan(null));
export const usePerms = () => useContext(PermsContext);
