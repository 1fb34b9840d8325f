// Start mitigation actions from an audit result: a task name (the audit id by default),
// for each non-compliant check a choice among the actions valid for that check, Confirm.
import { useEffect, useState } from 'react';
import { useNavigate, useParams } from 'react-router-dom';
import Button from '@cloudscape-design/components/button';
import Container from '@cloudscape-design/components/container';
import ContentLayout from '@cloudscape-design/components/content-layout';
import Form from '@cloudscape-design/components/form';
import FormField from '@cloudscape-design/components/form-field';
import Header from '@cloudscape-design/components/header';
import Input from '@cloudscape-design/components/input';
import Multiselect from '@cloudscape-design/components/multiselect';
import SpaceBetween from '@cloudscape-design/components/space-between';
import { fieldOf, iot } from '../api.js';
import { actionTypesFor, checkTitle } from '../checks.js';
import { ErrorBox } from '../common.jsx';
import { useFlash } from '../App.jsx';
import { Crumbs } from './Results.jsx';
import { listAllActions } from './MitigationActions.jsx';

export default function StartMitigation() {
  const { taskId } = useParams();
  const navigate = useNavigate();
  const flash = useFlash();
  const [name, setName] = useState(taskId);
  const [checks, setChecks] = useState([]);
  const [actions, setActions] = useState([]);
  const [chosen, setChosen] = useState({});
  const [err, setErr] = useState(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    (async () => {
      const audit = await iot('DescribeAuditTask', { taskId });
      const nc = Object.entries(audit.auditDetails || {})
        .filter(([, d]) => d.checkRunStatus === 'COMPLETED_NON_COMPLIANT')
        .map(([k]) => k)
        .sort();
      setChecks(nc);
      const ids = await listAllActions();
      const described = await Promise.all(ids.map((a) => iot('DescribeMitigationAction', { actionName: a.actionName })));
      setActions(described);
    })().catch(setErr);
  }, [taskId]);

  const confirm = async () => {
    setBusy(true);
    setErr(null);
    try {
      const mapping = {};
      Object.entries(chosen).forEach(([check, opts]) => {
        if (opts.length) mapping[check] = opts.map((o) => o.value);
      });
      if (!Object.keys(mapping).length) throw Object.assign(new Error('Choose at least one action for a check'), { code: 'InvalidRequestException' });
      await iot('StartAuditMitigationActionsTask', {
        taskId: name,
        target: { auditTaskId: taskId },
        auditCheckToActionsMapping: mapping,
        clientRequestToken: crypto.randomUUID ? crypto.randomUUID() : String(Date.now()),
      });
      flash('success', `Mitigation actions task ${name} started.`);
      navigate('/mitigation/executions/' + encodeURIComponent(name));
    } catch (e) {
      setErr(e);
    } finally {
      setBusy(false);
    }
  };
  const nameErr = err && fieldOf(err, ['taskId', 'Task']) ? err.message : null;
  return (
    <ContentLayout
      header={
        <SpaceBetween size="s">
          <Crumbs
            items={[
              { text: 'Audit', href: '/console/audit/results' },
              { text: 'Results', href: '/console/audit/results' },
              { text: taskId, href: '/console/audit/results/' + taskId },
              { text: 'Start mitigation actions', href: `/console/audit/results/${taskId}/mitigate` },
            ]}
          />
          <Header variant="h1">Start mitigation actions</Header>
        </SpaceBetween>
      }
    >
      <Form
        actions={
          <SpaceBetween direction="horizontal" size="xs">
            <Button variant="link" onClick={() => navigate('/audit/results/' + taskId)}>Cancel</Button>
            <Button variant="primary" loading={busy} onClick={confirm}>Confirm</Button>
          </SpaceBetween>
        }
        errorText={err && !nameErr ? `${err.code ? err.code + ': ' : ''}${err.message}` : null}
      >
        <SpaceBetween size="l">
          <Container header={<Header variant="h2">Task</Header>}>
            <FormField label="Task name" errorText={nameErr}>
              <Input value={name} onChange={(e) => setName(e.detail.value)} ariaLabel="Task name" />
            </FormField>
          </Container>
          <Container header={<Header variant="h2" description="Only the actions valid for each check are offered.">Actions per check</Header>}>
            <SpaceBetween size="l">
              {checks.map((c) => {
                const valid = actionTypesFor(c);
                const options = actions
                  .filter((a) => valid.includes(a.actionType))
                  .map((a) => ({ label: a.actionName, value: a.actionName, description: a.actionType }));
                return (
                  <FormField key={c} label={checkTitle(c)} description={c}>
                    <Multiselect
                      selectedOptions={chosen[c] || []}
                      onChange={(e) => setChosen({ ...chosen, [c]: e.detail.selectedOptions })}
                      options={options}
                      placeholder="Choose actions"
                      ariaLabel={'Actions for ' + c}
                      empty={`No mitigation action of type ${valid.join(' or ')}`}
                    />
                  </FormField>
                );
              })}
              <ErrorBox error={null} />
            </SpaceBetween>
          </Container>
        </SpaceBetween>
      </Form>
    </ContentLayout>
  );
}
