// Defend › Audit › Schedules: list; create with the checks to run and the frequency
// (daily, weekly, bi-weekly, monthly, or "Run audit now (once)"); edit; delete.
import { useCallback, useEffect, useState } from 'react';
import { useNavigate, useParams } from 'react-router-dom';
import Box from '@cloudscape-design/components/box';
import Button from '@cloudscape-design/components/button';
import Checkbox from '@cloudscape-design/components/checkbox';
import ColumnLayout from '@cloudscape-design/components/column-layout';
import Container from '@cloudscape-design/components/container';
import ContentLayout from '@cloudscape-design/components/content-layout';
import Form from '@cloudscape-design/components/form';
import FormField from '@cloudscape-design/components/form-field';
import Header from '@cloudscape-design/components/header';
import Input from '@cloudscape-design/components/input';
import Modal from '@cloudscape-design/components/modal';
import Select from '@cloudscape-design/components/select';
import SpaceBetween from '@cloudscape-design/components/space-between';
import Table from '@cloudscape-design/components/table';
import { fieldOf, iot } from '../api.js';
import { checkTitle } from '../checks.js';
import { ErrorBox, NavLink, usePaged } from '../common.jsx';
import { useFlash } from '../App.jsx';
import { usePerms } from '../perms.js';
import { Crumbs } from './Results.jsx';

const FREQ = [
  { label: 'Run audit now (once)', value: 'ONCE' },
  { label: 'Daily', value: 'DAILY' },
  { label: 'Weekly', value: 'WEEKLY' },
  { label: 'Bi-weekly', value: 'BIWEEKLY' },
  { label: 'Monthly', value: 'MONTHLY' },
];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'].map((d) => ({ label: d, value: d }));

export function Schedules() {
  const navigate = useNavigate();
  const flash = useFlash();
  const can = usePerms();
  const [selected, setSelected] = useState([]);
  const [confirm, setConfirm] = useState(false);
  const fetchPage = useCallback(async (nextToken) => {
    const r = await iot('ListScheduledAudits', nextToken ? { nextToken, maxResults: 25 } : { maxResults: 25 });
    return { items: r.scheduledAudits || [], nextToken: r.nextToken };
  }, []);
  const list = usePaged(fetchPage, []);
  return (
    <ContentLayout header={<Crumbs items={[{ text: 'Audit', href: '/console/audit/results' }, { text: 'Schedules', href: '/console/audit/schedules' }]} />}>
      <Table
        wrapLines
        header={
          <Header
            variant="h1"
            actions={
              <SpaceBetween direction="horizontal" size="xs">
                <Button disabled={selected.length !== 1 || !can('iot', 'DeleteScheduledAudit')} onClick={() => setConfirm(true)}>Delete</Button>
                <Button variant="primary" disabled={!can('iot', 'CreateScheduledAudit')} onClick={() => navigate('/audit/schedules/create')}>Create</Button>
              </SpaceBetween>
            }
          >
            Schedules
          </Header>
        }
        selectionType="single"
        selectedItems={selected}
        onSelectionChange={(e) => setSelected(e.detail.selectedItems)}
        trackBy="scheduledAuditName"
        items={list.items}
        loading={list.loading && list.items.length === 0}
        pagination={list.pagination}
        empty={<Box textAlign="center">No scheduled audits<ErrorBox error={list.error} /></Box>}
        columnDefinitions={[
          { id: 'name', header: 'Name', cell: (s) => <NavLink to={'/audit/schedules/' + encodeURIComponent(s.scheduledAuditName)}>{s.scheduledAuditName}</NavLink> },
          { id: 'freq', header: 'Frequency', cell: (s) => s.frequency },
          { id: 'day', header: 'Day', cell: (s) => s.dayOfWeek || s.dayOfMonth || '-' },
        ]}
      />
      <Modal
        visible={confirm}
        onDismiss={() => setConfirm(false)}
        header="Delete schedule"
        footer={
          <Box float="right">
            <SpaceBetween direction="horizontal" size="xs">
              <Button variant="link" onClick={() => setConfirm(false)}>Cancel</Button>
              <Button
                variant="primary"
                onClick={async () => {
                  try {
                    await iot('DeleteScheduledAudit', { scheduledAuditName: selected[0].scheduledAuditName });
                    flash('success', `Deleted ${selected[0].scheduledAuditName}.`);
                    setSelected([]);
                    list.reload();
                  } catch (e) {
                    flash('error', e.message);
                  } finally {
                    setConfirm(false);
                  }
                }}
              >
                Delete
              </Button>
            </SpaceBetween>
          </Box>
        }
      >
        Delete {selected[0] && selected[0].scheduledAuditName}?
      </Modal>
    </ContentLayout>
  );
}

export function ScheduleEdit() {
  const { name: editName } = useParams();
  const editing = !!editName;
  const navigate = useNavigate();
  const flash = useFlash();
  const [name, setName] = useState('');
  const [available, setAvailable] = useState([]);
  const [checks, setChecks] = useState({});
  const [freq, setFreq] = useState(editing ? FREQ[1] : FREQ[0]);
  const [dow, setDow] = useState(DAYS[1]);
  const [dom, setDom] = useState('1');
  const [err, setErr] = useState(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    (async () => {
      const cfg = await iot('DescribeAccountAuditConfiguration', {});
      const enabled = Object.entries(cfg.auditCheckConfigurations || {})
        .filter(([, v]) => v.enabled)
        .map(([k]) => k)
        .sort();
      setAvailable(enabled);
      let chosen = enabled;
      if (editing) {
        const s = await iot('DescribeScheduledAudit', { scheduledAuditName: editName });
        setName(s.scheduledAuditName);
        setFreq(FREQ.find((f) => f.value === s.frequency) || FREQ[1]);
        if (s.dayOfWeek) setDow(DAYS.find((d) => d.value === s.dayOfWeek) || DAYS[1]);
        if (s.dayOfMonth) setDom(s.dayOfMonth);
        chosen = s.targetCheckNames || [];
        setAvailable(Array.from(new Set([...enabled, ...chosen])).sort());
      }
      setChecks(Object.fromEntries(chosen.map((c) => [c, true])));
    })().catch(setErr);
  }, [editing, editName]);

  const submit = async () => {
    setBusy(true);
    setErr(null);
    try {
      const targetCheckNames = Object.keys(checks).filter((k) => checks[k]);
      if (freq.value === 'ONCE') {
        const r = await iot('StartOnDemandAuditTask', { targetCheckNames });
        flash('success', `Audit ${r.taskId} started.`);
        navigate('/audit/results/' + r.taskId);
        return;
      }
      const input = { frequency: freq.value, targetCheckNames, scheduledAuditName: name };
      if (freq.value === 'WEEKLY' || freq.value === 'BIWEEKLY') input.dayOfWeek = dow.value;
      if (freq.value === 'MONTHLY') input.dayOfMonth = dom;
      if (editing) await iot('UpdateScheduledAudit', input);
      else await iot('CreateScheduledAudit', input);
      flash('success', `Schedule ${name} ${editing ? 'updated' : 'created'}.`);
      navigate('/audit/schedules');
    } catch (e) {
      setErr(e);
    } finally {
      setBusy(false);
    }
  };
  const field = fieldOf(err, ['scheduledAuditName', 'dayOfMonth', 'dayOfWeek', 'targetCheckNames']);
  const fe = (f) => (field === f ? err.message : null);
  return (
    <ContentLayout
      header={
        <SpaceBetween size="s">
          <Crumbs items={[{ text: 'Audit', href: '/console/audit/results' }, { text: 'Schedules', href: '/console/audit/schedules' }, { text: editing ? editName : 'Create', href: '#' }]} />
          <Header variant="h1">{editing ? 'Edit schedule' : 'Create a new audit'}</Header>
        </SpaceBetween>
      }
    >
      <Form
        actions={
          <SpaceBetween direction="horizontal" size="xs">
            <Button variant="link" onClick={() => navigate('/audit/schedules')}>Cancel</Button>
            <Button variant="primary" loading={busy} onClick={submit}>{editing ? 'Save' : 'Create'}</Button>
          </SpaceBetween>
        }
        errorText={err && !field ? `${err.code}: ${err.message}` : null}
      >
        <SpaceBetween size="l">
          <Container header={<Header variant="h2" counter={`(${Object.values(checks).filter(Boolean).length})`}>Available checks</Header>}>
            <ColumnLayout columns={2}>
              {available.map((c) => (
                <Checkbox key={c} checked={!!checks[c]} onChange={(e) => setChecks({ ...checks, [c]: e.detail.checked })} description={c}>
                  {checkTitle(c)}
                </Checkbox>
              ))}
            </ColumnLayout>
            {fe('targetCheckNames') && <Box color="text-status-error">{fe('targetCheckNames')}</Box>}
          </Container>
          <Container header={<Header variant="h2">Set schedule</Header>}>
            <SpaceBetween size="l">
              <FormField label="Recurrence">
                <Select selectedOption={freq} onChange={(e) => setFreq(e.detail.selectedOption)} options={editing ? FREQ.slice(1) : FREQ} ariaLabel="Recurrence" />
              </FormField>
              {freq.value !== 'ONCE' && (
                <FormField label="Name" errorText={fe('scheduledAuditName')}>
                  <Input value={name} onChange={(e) => setName(e.detail.value)} disabled={editing} ariaLabel="Name" />
                </FormField>
              )}
              {(freq.value === 'WEEKLY' || freq.value === 'BIWEEKLY') && (
                <FormField label="Day of week" errorText={fe('dayOfWeek')}>
                  <Select selectedOption={dow} onChange={(e) => setDow(e.detail.selectedOption)} options={DAYS} ariaLabel="Day of week" />
                </FormField>
              )}
              {freq.value === 'MONTHLY' && (
                <FormField label="Day of month" description="1-31 or LAST" errorText={fe('dayOfMonth')}>
                  <Input value={dom} onChange={(e) => setDom(e.detail.value)} ariaLabel="Day of month" />
                </FormField>
              )}
            </SpaceBetween>
          </Container>
        </SpaceBetween>
      </Form>
    </ContentLayout>
  );
}
