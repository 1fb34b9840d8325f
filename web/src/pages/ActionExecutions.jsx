// Defend › Action executions: every audit mitigation actions task; a task's page with its
// actions, target, status and statistics, its executions ("Show executions for" an action
// and a status), progress polling while it runs, and Cancel.
import { useCallback, useEffect, useState } from 'react';
import { useParams } from 'react-router-dom';
import Box from '@cloudscape-design/components/box';
import Button from '@cloudscape-design/components/button';
import ColumnLayout from '@cloudscape-design/components/column-layout';
import Container from '@cloudscape-design/components/container';
import ContentLayout from '@cloudscape-design/components/content-layout';
import FormField from '@cloudscape-design/components/form-field';
import Header from '@cloudscape-design/components/header';
import ProgressBar from '@cloudscape-design/components/progress-bar';
import Select from '@cloudscape-design/components/select';
import SpaceBetween from '@cloudscape-design/components/space-between';
import Table from '@cloudscape-design/components/table';
import { iot } from '../api.js';
import { checkTitle } from '../checks.js';
import { ErrorBox, fmtTime, NavLink, Status, usePaged, usePoll } from '../common.jsx';
import { useFlash } from '../App.jsx';
import { usePerms } from '../perms.js';
import { Crumbs, listWindow, ResourceRef } from './Results.jsx';

const TASK_STATUS = [{ label: 'All statuses', value: '' }, ...['IN_PROGRESS', 'COMPLETED', 'FAILED', 'CANCELED'].map((s) => ({ label: s, value: s }))];

export function ActionExecutions() {
  const [status, setStatus] = useState(TASK_STATUS[0]);
  const fetchPage = useCallback(
    async (nextToken) => {
      const input = { ...listWindow(), maxResults: 25 };
      if (nextToken) input.nextToken = nextToken;
      if (status.value) input.taskStatus = status.value;
      const r = await iot('ListAuditMitigationActionsTasks', input);
      const items = (r.tasks || []).slice().sort((a, b) => (b.startTime || 0) - (a.startTime || 0));
      return { items, nextToken: r.nextToken };
    },
    [status],
  );
  const list = usePaged(fetchPage, [status]);
  usePoll(list.reload, list.items.some((t) => t.taskStatus === 'IN_PROGRESS'), 2000);
  return (
    <ContentLayout header={<Crumbs items={[{ text: 'Action executions', href: '/console/mitigation/executions' }]} />}>
      <Table
        wrapLines
        header={<Header variant="h1" description="Audit mitigation actions tasks.">Action executions</Header>}
        filter={<Select selectedOption={status} onChange={(e) => setStatus(e.detail.selectedOption)} options={TASK_STATUS} ariaLabel="Status" />}
        items={list.items}
        loading={list.loading && list.items.length === 0}
        pagination={list.pagination}
        empty={<Box textAlign="center">No tasks<ErrorBox error={list.error} /></Box>}
        columnDefinitions={[
          { id: 'name', header: 'Task name', cell: (t) => <NavLink to={'/mitigation/executions/' + encodeURIComponent(t.taskId)}>{t.taskId}</NavLink> },
          { id: 'start', header: 'Start time', cell: (t) => fmtTime(t.startTime) },
          { id: 'status', header: 'Status', cell: (t) => <Status value={t.taskStatus} /> },
        ]}
      />
    </ContentLayout>
  );
}

const EXEC_STATUS = [{ label: 'Any status', value: '' }, ...['IN_PROGRESS', 'COMPLETED', 'FAILED', 'CANCELED', 'SKIPPED', 'PENDING'].map((s) => ({ label: s, value: s }))];

export function TaskPage() {
  const can = usePerms();
  const { taskId } = useParams();
  const flash = useFlash();
  const [task, setTask] = useState(null);
  const [error, setError] = useState(null);
  const [check, setCheck] = useState(null);
  const [action, setAction] = useState({ label: 'All actions', value: '' });
  const [estatus, setEstatus] = useState(EXEC_STATUS[0]);
  const load = useCallback(
    () =>
      iot('DescribeAuditMitigationActionsTask', { taskId })
        .then((t) => {
          setTask(t);
          setError(null);
        })
        .catch(setError),
    [taskId],
  );
  useEffect(() => {
    load();
  }, [load]);
  const running = !!task && task.taskStatus === 'IN_PROGRESS';
  usePoll(load, running, 1500);

  const checks = task ? Object.keys(task.auditCheckToActionsMapping || task.taskStatistics || {}).sort() : [];
  useEffect(() => {
    if (!check && checks.length) setCheck({ label: checkTitle(checks[0]), value: checks[0] });
  }, [check, checks]);

  const target = (task && task.target) || {};
  const fetchExec = useCallback(
    async (nextToken) => {
      if (!task || !check) return { items: [] };
      let findings = [];
      let next;
      if (target.findingIds) {
        findings = target.findingIds.map((findingId) => ({ findingId }));
      } else if (target.auditTaskId) {
        const input = { taskId: target.auditTaskId, checkName: check.value, maxResults: 25 };
        if (nextToken) input.nextToken = nextToken;
        const r = await iot('ListAuditFindings', input);
        findings = r.findings || [];
        next = r.nextToken;
      }
      const rows = [];
      for (const f of findings) {
        const input = { taskId, findingId: f.findingId, maxResults: 100 };
        if (estatus.value) input.actionStatus = estatus.value;
        const r = await iot('ListAuditMitigationActionsExecutions', input);
        for (const x of r.actionsExecutions || []) {
          if (!action.value || x.actionName === action.value) rows.push({ ...x, finding: f });
        }
      }
      return { items: rows, nextToken: next };
    },
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [task && task.taskStatus, check, action, estatus, taskId],
  );
  const execs = usePaged(fetchExec, [task && task.taskStatus, check, action, estatus]);

  const stats = (task && task.taskStatistics) || {};
  let total = 0;
  let done = 0;
  Object.values(stats).forEach((s) => {
    total += s.totalFindingsCount || 0;
    done += (s.succeededFindingsCount || 0) + (s.failedFindingsCount || 0) + (s.skippedFindingsCount || 0) + (s.canceledFindingsCount || 0);
  });
  const actionNames = task ? (task.actionsDefinition || []).map((a) => a.name) : [];
  return (
    <ContentLayout
      header={
        <SpaceBetween size="s">
          <Crumbs
            items={[
              { text: 'Action executions', href: '/console/mitigation/executions' },
              { text: taskId, href: '/console/mitigation/executions/' + encodeURIComponent(taskId) },
            ]}
          />
          <Header
            variant="h1"
            actions={
              running && (
                <Button
                  disabled={!can('iot', 'CancelAuditMitigationActionsTask')}
                  onClick={() =>
                    iot('CancelAuditMitigationActionsTask', { taskId })
                      .then(() => {
                        flash('success', 'Task canceled.');
                        load();
                      })
                      .catch((e) => flash('error', e.message))
                  }
                >
                  Cancel
                </Button>
              )
            }
          >
            {taskId}
          </Header>
        </SpaceBetween>
      }
    >
      <SpaceBetween size="l">
        <ErrorBox error={error} />
        {task && (
          <Container header={<Header variant="h2">Details</Header>}>
            <SpaceBetween size="m">
              <ColumnLayout columns={4} variant="text-grid">
                <div>
                  <Box variant="awsui-key-label">Status</Box>
                  <Status value={task.taskStatus} />
                </div>
                <div>
                  <Box variant="awsui-key-label">Start time</Box>
                  {fmtTime(task.startTime)}
                </div>
                <div>
                  <Box variant="awsui-key-label">End time</Box>
                  {fmtTime(task.endTime)}
                </div>
                <div>
                  <Box variant="awsui-key-label">Target</Box>
                  {target.auditTaskId ? (
                    <NavLink to={'/audit/results/' + target.auditTaskId}>Audit {target.auditTaskId}</NavLink>
                  ) : target.findingIds ? (
                    `${target.findingIds.length} findings`
                  ) : (
                    '-'
                  )}
                </div>
              </ColumnLayout>
              {running && <ProgressBar value={total ? Math.round((100 * done) / total) : 0} label="Progress" additionalInfo={`${done} of ${total} findings done`} />}
            </SpaceBetween>
          </Container>
        )}
        <Table
        wrapLines
          header={<Header variant="h2">Statistics</Header>}
          items={checks.map((c) => ({ c, ...(stats[c] || {}), actions: (task.auditCheckToActionsMapping || {})[c] || [] }))}
          loading={!task && !error}
          columnDefinitions={[
            { id: 'check', header: 'Check', cell: (r) => checkTitle(r.c) },
            { id: 'actions', header: 'Actions', cell: (r) => r.actions.join(', ') || '-' },
            { id: 'total', header: 'Findings', cell: (r) => r.totalFindingsCount ?? '-' },
            { id: 'ok', header: 'Succeeded', cell: (r) => r.succeededFindingsCount ?? '-' },
            { id: 'failed', header: 'Failed', cell: (r) => r.failedFindingsCount ?? '-' },
            { id: 'skipped', header: 'Skipped', cell: (r) => r.skippedFindingsCount ?? '-' },
            { id: 'canceled', header: 'Canceled', cell: (r) => r.canceledFindingsCount ?? '-' },
          ]}
        />
        <Table
        wrapLines
          header={<Header variant="h2">Executions</Header>}
          filter={
            <SpaceBetween direction="horizontal" size="xs">
              <FormField label="Show executions for">
                <SpaceBetween direction="horizontal" size="xs">
                  <Select
                    selectedOption={check}
                    onChange={(e) => setCheck(e.detail.selectedOption)}
                    options={checks.map((c) => ({ label: checkTitle(c), value: c }))}
                    ariaLabel="Check"
                  />
                  <Select
                    selectedOption={action}
                    onChange={(e) => setAction(e.detail.selectedOption)}
                    options={[{ label: 'All actions', value: '' }, ...actionNames.map((a) => ({ label: a, value: a }))]}
                    ariaLabel="Action"
                  />
                  <Select selectedOption={estatus} onChange={(e) => setEstatus(e.detail.selectedOption)} options={EXEC_STATUS} ariaLabel="Execution status" />
                </SpaceBetween>
              </FormField>
            </SpaceBetween>
          }
          items={execs.items}
          loading={execs.loading && execs.items.length === 0}
          pagination={execs.pagination}
          empty={<Box textAlign="center">No executions<ErrorBox error={execs.error} /></Box>}
          columnDefinitions={[
            { id: 'action', header: 'Action', cell: (x) => x.actionName, minWidth: 160 },
            {
              id: 'resource',
              header: 'Target',
              cell: (x) =>
                x.finding.nonCompliantResource ? (
                  <ResourceRef type={x.finding.nonCompliantResource.resourceType} id={x.finding.nonCompliantResource.resourceIdentifier} />
                ) : (
                  x.findingId
                ),
            },
            { id: 'status', header: 'Status', cell: (x) => <Status value={x.status} />, minWidth: 140 },
            { id: 'start', header: 'Start time', cell: (x) => fmtTime(x.startTime), minWidth: 130 },
            { id: 'end', header: 'End time', cell: (x) => fmtTime(x.endTime), minWidth: 130 },
            { id: 'msg', header: 'Message', cell: (x) => [x.errorCode, x.message].filter(Boolean).join(': ') || '-' },
          ]}
        />
      </SpaceBetween>
    </ContentLayout>
  );
}
