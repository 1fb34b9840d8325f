// The dashboard: the last audit's non-compliant checks by severity, running tasks, and
// links into each page.
import { useCallback, useEffect, useState } from 'react';
import Box from '@cloudscape-design/components/box';
import ColumnLayout from '@cloudscape-design/components/column-layout';
import Container from '@cloudscape-design/components/container';
import ContentLayout from '@cloudscape-design/components/content-layout';
import Header from '@cloudscape-design/components/header';
import SpaceBetween from '@cloudscape-design/components/space-between';
import { iot } from '../api.js';
import { checkSeverity, checkTitle } from '../checks.js';
import { ErrorBox, fmtTime, NavLink, Status, usePoll } from '../common.jsx';
import { listWindow } from './Results.jsx';
import { allowedPages } from '../App.jsx';
import { usePerms } from '../perms.js';

export default function Dashboard() {
  const [last, setLast] = useState(null);
  const [running, setRunning] = useState({ audits: [], tasks: [] });
  const [error, setError] = useState(null);
  const can = usePerms();
  const canAudits = can('iot', 'ListAuditTasks');
  const canTasks = can('iot', 'ListAuditMitigationActionsTasks');
  const load = useCallback(async () => {
    // only what the identity may read is asked for; a refusal still shows as the API's message
    if (!canAudits && !canTasks) return;
    try {
      const w = listWindow();
      if (!canAudits) {
        const tasks = await iot('ListAuditMitigationActionsTasks', { ...w, taskStatus: 'IN_PROGRESS', maxResults: 50 });
        setRunning({ audits: [], tasks: tasks.tasks || [] });
        setError(null);
        return;
      }
      const audits = await iot('ListAuditTasks', { ...w, maxResults: 250 });
      const all = audits.tasks || [];
      let newest = null;
      for (const t of all.slice(0, 250)) {
        if (t.taskStatus !== 'COMPLETED') continue;
        const d = await iot('DescribeAuditTask', { taskId: t.taskId });
        if (!newest || (d.taskStartTime || 0) > (newest.taskStartTime || 0)) newest = { ...t, ...d };
        if (all.length > 20) break;
      }
      setLast(newest);
      const tasks = canTasks
        ? await iot('ListAuditMitigationActionsTasks', { ...w, taskStatus: 'IN_PROGRESS', maxResults: 50 })
        : {};
      setRunning({ audits: all.filter((t) => t.taskStatus === 'IN_PROGRESS'), tasks: tasks.tasks || [] });
      setError(null);
    } catch (e) {
      setError(e);
    }
  }, [canAudits, canTasks]);
  useEffect(() => {
    load();
  }, [load]);
  usePoll(load, running.audits.length + running.tasks.length > 0, 3000);
  const bySeverity = { CRITICAL: [], HIGH: [], MEDIUM: [], LOW: [] };
  if (last)
    Object.entries(last.auditDetails || {}).forEach(([k, d]) => {
      if (d.checkRunStatus === 'COMPLETED_NON_COMPLIANT') bySeverity[checkSeverity(k)].push(k);
    });
  return (
    <ContentLayout header={<Header variant="h1" description="AWS IoT Device Defender audit and mitigation, on this server.">Dashboard</Header>}>
      <SpaceBetween size="l">
        <ErrorBox error={error} />
        <Container
          header={
            <Header variant="h2" description={last ? `Audit ${last.taskId}, ${fmtTime(last.taskStartTime)}` : 'No completed audit yet'}>
              Last audit: non-compliant checks by severity
            </Header>
          }
        >
          <ColumnLayout columns={4} variant="text-grid">
            {Object.entries(bySeverity).map(([sev, list]) => (
              <div key={sev}>
                <Box variant="awsui-key-label">{sev}</Box>
                <Box variant="awsui-value-large">{list.length}</Box>
                {list.map((c) => (
                  <div key={c}>
                    <NavLink to={`/audit/results/${last.taskId}/${c}`}>{checkTitle(c)}</NavLink>
                  </div>
                ))}
              </div>
            ))}
          </ColumnLayout>
        </Container>
        <Container header={<Header variant="h2">Running</Header>}>
          {running.audits.length + running.tasks.length === 0 && <Box>Nothing is running.</Box>}
          {running.audits.map((t) => (
            <div key={t.taskId}>
              <NavLink to={'/audit/results/' + t.taskId}>Audit {t.taskId}</NavLink> <Status value={t.taskStatus} />
            </div>
          ))}
          {running.tasks.map((t) => (
            <div key={t.taskId}>
              <NavLink to={'/mitigation/executions/' + encodeURIComponent(t.taskId)}>Mitigation task {t.taskId}</NavLink> <Status value={t.taskStatus} />
            </div>
          ))}
        </Container>
        <Container header={<Header variant="h2">Defend</Header>}>
          <ColumnLayout columns={3}>
            {allowedPages(can).map((p) => (
              <NavLink key={p.href} to={p.href.replace(/^\/console/, '')}>
                {p.text === 'Results' ? 'Audit results' : p.text}
              </NavLink>
            ))}
          </ColumnLayout>
          {allowedPages(can).length === 0 && <Box>Your policies allow none of these pages.</Box>}
        </Container>
      </SpaceBetween>
    </ContentLayout>
  );
}
