// Defend › Audit › Results: the audits, one audit's checks, one check's non-compliant
// resources. Lists are paged by the server; a running audit is polled for progress.
import { useCallback, useEffect, useState } from 'react';
import { useNavigate, useParams } from 'react-router-dom';
import Box from '@cloudscape-design/components/box';
import BreadcrumbGroup from '@cloudscape-design/components/breadcrumb-group';
import Button from '@cloudscape-design/components/button';
import ColumnLayout from '@cloudscape-design/components/column-layout';
import Container from '@cloudscape-design/components/container';
import ContentLayout from '@cloudscape-design/components/content-layout';
import Header from '@cloudscape-design/components/header';
import ProgressBar from '@cloudscape-design/components/progress-bar';
import Select from '@cloudscape-design/components/select';
import SpaceBetween from '@cloudscape-design/components/space-between';
import Table from '@cloudscape-design/components/table';
import { iot } from '../api.js';
import { checkSeverity, checkTitle, SEVERITY_ORDER } from '../checks.js';
import { ErrorBox, fmtTime, NavLink, Status, usePaged, usePoll } from '../common.jsx';
import { useFlash } from '../App.jsx';
import { usePerms } from '../perms.js';

export function Crumbs({ items }) {
  const navigate = useNavigate();
  return (
    <BreadcrumbGroup
      items={[{ text: 'Defend', href: '/console/' }, ...items]}
      onFollow={(e) => {
        e.preventDefault();
        navigate(e.detail.href.replace(/^\/console/, '') || '/');
      }}
    />
  );
}

const DAY = 86400;
export const listWindow = () => {
  const now = Math.floor(Date.now() / 1000);
  return { startTime: now - 366 * DAY, endTime: now + DAY };
};

export async function runAuditNow() {
  const cfg = await iot('DescribeAccountAuditConfiguration', {});
  const checks = Object.entries(cfg.auditCheckConfigurations || {})
    .filter(([, v]) => v.enabled)
    .map(([k]) => k);
  const r = await iot('StartOnDemandAuditTask', { targetCheckNames: checks });
  return r.taskId;
}

const TYPE_OPTIONS = [
  { label: 'All types', value: '' },
  { label: 'On demand', value: 'ON_DEMAND_AUDIT_TASK' },
  { label: 'Scheduled', value: 'SCHEDULED_AUDIT_TASK' },
];
const STATUS_OPTIONS = [
  { label: 'All statuses', value: '' },
  ...['IN_PROGRESS', 'COMPLETED', 'FAILED', 'CANCELED'].map((s) => ({ label: s, value: s })),
];

export function Results() {
  const navigate = useNavigate();
  const flash = useFlash();
  const can = usePerms();
  const [type, setType] = useState(TYPE_OPTIONS[0]);
  const [status, setStatus] = useState(STATUS_OPTIONS[0]);
  const [starting, setStarting] = useState(false);
  const fetchPage = useCallback(
    async (nextToken) => {
      const input = { ...listWindow(), maxResults: 25 };
      if (nextToken) input.nextToken = nextToken;
      if (type.value) input.taskType = type.value;
      if (status.value) input.taskStatus = status.value;
      const r = await iot('ListAuditTasks', input);
      const items = await Promise.all(
        (r.tasks || []).map(async (t) => {
          try {
            const d = await iot('DescribeAuditTask', { taskId: t.taskId });
            return { ...t, ...d };
          } catch {
            return t;
          }
        }),
      );
      items.sort((a, b) => (b.taskStartTime || 0) - (a.taskStartTime || 0));
      return { items, nextToken: r.nextToken };
    },
    [type, status],
  );
  const list = usePaged(fetchPage, [type, status]);
  const running = list.items.some((t) => t.taskStatus === 'IN_PROGRESS');
  usePoll(list.reload, running, 2000);
  return (
    <ContentLayout
      header={
        <SpaceBetween size="s">
          <Crumbs items={[{ text: 'Audit', href: '/console/audit/results' }, { text: 'Results', href: '/console/audit/results' }]} />
        </SpaceBetween>
      }
    >
      <Table
        wrapLines
        header={
          <Header
            variant="h1"
            description="Every audit of this account, newest first."
            actions={
              <Button
                variant="primary"
                loading={starting}
                disabled={!can('iot', 'StartOnDemandAuditTask') || !can('iot', 'DescribeAccountAuditConfiguration')}
                onClick={async () => {
                  setStarting(true);
                  try {
                    const id = await runAuditNow();
                    flash('success', `Audit ${id} started.`);
                    navigate('/audit/results/' + id);
                  } catch (e) {
                    flash('error', `${e.code}: ${e.message}`);
                  } finally {
                    setStarting(false);
                  }
                }}
              >
                Run audit now
              </Button>
            }
          >
            Audit results
          </Header>
        }
        filter={
          <SpaceBetween direction="horizontal" size="xs">
            <Select selectedOption={type} onChange={(e) => setType(e.detail.selectedOption)} options={TYPE_OPTIONS} ariaLabel="Type" />
            <Select selectedOption={status} onChange={(e) => setStatus(e.detail.selectedOption)} options={STATUS_OPTIONS} ariaLabel="Status" />
          </SpaceBetween>
        }
        loading={list.loading && list.items.length === 0}
        items={list.items}
        pagination={list.pagination}
        empty={<Box textAlign="center">No audits{list.error ? '' : ' yet. Choose Run audit now.'}<ErrorBox error={list.error} /></Box>}
        columnDefinitions={[
          {
            id: 'name',
            header: 'Name',
            cell: (t) => <NavLink to={'/audit/results/' + t.taskId}>{t.scheduledAuditName || t.taskId}</NavLink>,
          },
          { id: 'type', header: 'Type', cell: (t) => (t.taskType === 'SCHEDULED_AUDIT_TASK' ? 'Scheduled' : 'On demand') },
          { id: 'date', header: 'Date', cell: (t) => fmtTime(t.taskStartTime) },
          { id: 'status', header: 'Status', cell: (t) => <Status value={t.taskStatus} /> },
          {
            id: 'noncompliant',
            header: 'Non-compliant checks',
            cell: (t) => (t.taskStatistics ? t.taskStatistics.nonCompliantChecks : '-'),
          },
        ]}
      />
    </ContentLayout>
  );
}

function useAudit(taskId) {
  const [audit, setAudit] = useState(null);
  const [error, setError] = useState(null);
  const load = useCallback(
    () =>
      iot('DescribeAuditTask', { taskId })
        .then((a) => {
          setAudit(a);
          setError(null);
        })
        .catch(setError),
    [taskId],
  );
  useEffect(() => {
    load();
  }, [load]);
  usePoll(load, audit && audit.taskStatus === 'IN_PROGRESS', 1500);
  return { audit, error };
}

export function AuditPage() {
  const { taskId } = useParams();
  const navigate = useNavigate();
  const flash = useFlash();
  const can = usePerms();
  const { audit, error } = useAudit(taskId);
  const details = (audit && audit.auditDetails) || {};
  const rows = Object.entries(details).map(([name, d]) => ({ name, ...d, severity: checkSeverity(name) }));
  rows.sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || a.name.localeCompare(b.name));
  const noncompliant = rows.filter((r) => r.checkRunStatus === 'COMPLETED_NON_COMPLIANT');
  const compliant = rows.filter((r) => r.checkRunStatus === 'COMPLETED_COMPLIANT');
  const others = rows.filter((r) => r.checkRunStatus !== 'COMPLETED_NON_COMPLIANT' && r.checkRunStatus !== 'COMPLETED_COMPLIANT');
  const st = (audit && audit.taskStatistics) || {};
  const done = (st.compliantChecks || 0) + (st.nonCompliantChecks || 0) + (st.failedChecks || 0) + (st.canceledChecks || 0);
  const checkLink = (r) => <NavLink to={`/audit/results/${taskId}/${r.name}`}>{checkTitle(r.name)}</NavLink>;
  const cols = [
    { id: 'check', header: 'Check name', cell: checkLink },
    { id: 'code', header: 'Check', cell: (r) => r.name },
    { id: 'severity', header: 'Severity', cell: (r) => r.severity },
    { id: 'status', header: 'Status', cell: (r) => <Status value={r.checkRunStatus} /> },
    { id: 'nc', header: 'Non-compliant resources', cell: (r) => r.nonCompliantResourcesCount ?? '-' },
    { id: 'total', header: 'Total resources', cell: (r) => r.totalResourcesCount ?? '-' },
  ];
  return (
    <ContentLayout
      header={
        <SpaceBetween size="s">
          <Crumbs
            items={[
              { text: 'Audit', href: '/console/audit/results' },
              { text: 'Results', href: '/console/audit/results' },
              { text: taskId, href: '/console/audit/results/' + taskId },
            ]}
          />
          <Header
            variant="h1"
            actions={
              <SpaceBetween direction="horizontal" size="xs">
                {audit && audit.taskStatus === 'IN_PROGRESS' && (
                  <Button
                    disabled={!can('iot', 'CancelAuditTask')}
                    onClick={() =>
                      iot('CancelAuditTask', { taskId })
                        .then(() => flash('success', 'Audit canceled.'))
                        .catch((e) => flash('error', `${e.code}: ${e.message}`))
                    }
                  >
                    Cancel audit
                  </Button>
                )}
                {audit && audit.taskStatus === 'COMPLETED' && noncompliant.length > 0 && can('iot', 'StartAuditMitigationActionsTask') && (
                  <Button variant="primary" onClick={() => navigate(`/audit/results/${taskId}/mitigate`)}>
                    Start mitigation actions
                  </Button>
                )}
              </SpaceBetween>
            }
          >
            {(audit && audit.scheduledAuditName) || 'Audit ' + taskId}
          </Header>
        </SpaceBetween>
      }
    >
      <SpaceBetween size="l">
        <ErrorBox error={error} />
        {audit && (
          <Container header={<Header variant="h2">Details</Header>}>
            <ColumnLayout columns={4} variant="text-grid">
              <div>
                <Box variant="awsui-key-label">Status</Box>
                <Status value={audit.taskStatus} />
              </div>
              <div>
                <Box variant="awsui-key-label">Type</Box>
                {audit.taskType === 'SCHEDULED_AUDIT_TASK' ? 'Scheduled' : 'On demand'}
              </div>
              <div>
                <Box variant="awsui-key-label">Started</Box>
                {fmtTime(audit.taskStartTime)}
              </div>
              <div>
                <Box variant="awsui-key-label">Checks</Box>
                {st.nonCompliantChecks || 0} non-compliant, {st.compliantChecks || 0} compliant, {st.failedChecks || 0} failed
              </div>
            </ColumnLayout>
            {audit.taskStatus === 'IN_PROGRESS' && (
              <ProgressBar
                value={st.totalChecks ? Math.round((100 * done) / st.totalChecks) : 0}
                label="Progress"
                additionalInfo={`${done} of ${st.totalChecks || 0} checks done`}
              />
            )}
          </Container>
        )}
        <Table
        wrapLines
          header={<Header variant="h2" counter={`(${noncompliant.length})`}>Non-compliant checks</Header>}
          items={noncompliant}
          columnDefinitions={cols}
          loading={!audit && !error}
          empty={<Box textAlign="center">No non-compliant checks</Box>}
        />
        <Table
        wrapLines
          header={<Header variant="h2" counter={`(${compliant.length})`}>Compliant checks</Header>}
          items={compliant}
          columnDefinitions={cols}
          loading={!audit && !error}
          empty={<Box textAlign="center">No compliant checks</Box>}
        />
        {others.length > 0 && (
          <Table
            wrapLines
            header={<Header variant="h2" counter={`(${others.length})`} description="Running, waiting for data, failed or canceled.">Other checks</Header>}
            items={others}
            columnDefinitions={cols}
          />
        )}
      </SpaceBetween>
    </ContentLayout>
  );
}

// A link to the read-only page of the resource an identifier names, or its text.
export function ResourceRef({ type, id }) {
  if (!id) return '-';
  if (id.deviceCertificateId)
    return <NavLink to={'/certificates/' + id.deviceCertificateId}>Certificate {id.deviceCertificateId}</NavLink>;
  if (id.caCertificateId) return <NavLink to={'/cas/' + id.caCertificateId}>CA certificate {id.caCertificateId}</NavLink>;
  if (id.policyVersionIdentifier)
    return (
      <NavLink to={'/policies/' + encodeURIComponent(id.policyVersionIdentifier.policyName)}>
        Policy {id.policyVersionIdentifier.policyName} version {id.policyVersionIdentifier.policyVersionId}
      </NavLink>
    );
  if (id.iamRoleArn) return <NavLink to={'/roles/' + encodeURIComponent(id.iamRoleArn.split('/').pop())}>Role {id.iamRoleArn}</NavLink>;
  if (id.clientId) return <span>Client ID {id.clientId}</span>;
  if (id.cognitoIdentityPoolId) return <span>Identity pool {id.cognitoIdentityPoolId}</span>;
  if (id.roleAliasArn) return <span>Role alias {id.roleAliasArn}</span>;
  if (id.account) return <span>Account {id.account}</span>;
  return <span>{type}</span>;
}

function Related({ list }) {
  if (!list || !list.length) return '-';
  return (
    <SpaceBetween size="xxxs">
      {list.map((r, i) => (
        <div key={i}>
          {r.resourceType === 'IOT_THING' || (r.additionalInfo && r.additionalInfo.thingName) ? (
            <NavLink to={'/things/' + encodeURIComponent((r.additionalInfo && r.additionalInfo.thingName) || '')}>
              Thing {(r.additionalInfo && r.additionalInfo.thingName) || ''}
            </NavLink>
          ) : (
            <ResourceRef type={r.resourceType} id={r.resourceIdentifier} />
          )}
        </div>
      ))}
    </SpaceBetween>
  );
}

export function CheckPage() {
  const { taskId, checkName } = useParams();
  const fetchPage = useCallback(
    async (nextToken) => {
      const input = { taskId, checkName, maxResults: 50 };
      if (nextToken) input.nextToken = nextToken;
      const r = await iot('ListAuditFindings', input);
      return { items: r.findings || [], nextToken: r.nextToken };
    },
    [taskId, checkName],
  );
  const list = usePaged(fetchPage, [taskId, checkName]);
  return (
    <ContentLayout
      header={
        <SpaceBetween size="s">
          <Crumbs
            items={[
              { text: 'Audit', href: '/console/audit/results' },
              { text: 'Results', href: '/console/audit/results' },
              { text: taskId, href: '/console/audit/results/' + taskId },
              { text: checkTitle(checkName), href: `/console/audit/results/${taskId}/${checkName}` },
            ]}
          />
        </SpaceBetween>
      }
    >
      <Table
        wrapLines
        header={
          <Header variant="h1" description={`${checkName} · severity ${checkSeverity(checkName)}`}>
            {checkTitle(checkName)}
          </Header>
        }
        items={list.items}
        loading={list.loading && list.items.length === 0}
        pagination={list.pagination}
        trackBy="findingId"
        empty={<Box textAlign="center">No non-compliant resources<ErrorBox error={list.error} /></Box>}
        columnDefinitions={[
          {
            id: 'resource',
            header: 'Non-compliant resource',
            cell: (f) => <ResourceRef type={f.nonCompliantResource && f.nonCompliantResource.resourceType} id={f.nonCompliantResource && f.nonCompliantResource.resourceIdentifier} />,
          },
          { id: 'type', header: 'Resource type', cell: (f) => (f.nonCompliantResource && f.nonCompliantResource.resourceType) || '-' },
          { id: 'reason', header: 'Reason', cell: (f) => f.reasonForNonCompliance || '-' },
          { id: 'related', header: 'Related resources', cell: (f) => <Related list={f.relatedResources} /> },
          { id: 'severity', header: 'Severity', cell: (f) => f.severity },
          { id: 'suppressed', header: 'Suppressed', cell: (f) => (f.isSuppressed ? 'Yes' : 'No') },
        ]}
      />
    </ContentLayout>
  );
}
