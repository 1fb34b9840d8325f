// Defend › Audit › Settings: every check with enable/disable, the audit role (with
// "Create role": a role IoT may assume with AWSIoTDeviceDefenderAudit attached) and the
// SNS target. Saved in one UpdateAccountAuditConfiguration call.
import { useEffect, useState } from 'react';
import Alert from '@cloudscape-design/components/alert';
import Box from '@cloudscape-design/components/box';
import Button from '@cloudscape-design/components/button';
import Container from '@cloudscape-design/components/container';
import ContentLayout from '@cloudscape-design/components/content-layout';
import Form from '@cloudscape-design/components/form';
import FormField from '@cloudscape-design/components/form-field';
import Header from '@cloudscape-design/components/header';
import Select from '@cloudscape-design/components/select';
import SpaceBetween from '@cloudscape-design/components/space-between';
import Table from '@cloudscape-design/components/table';
import TextFilter from '@cloudscape-design/components/text-filter';
import Toggle from '@cloudscape-design/components/toggle';
import { fieldOf, iot, sns } from '../api.js';
import { checkSeverity, checkTitle } from '../checks.js';
import { createIotRole, ErrorBox, RoleField } from '../common.jsx';
import { useFlash } from '../App.jsx';
import { usePerms } from '../perms.js';
import { Crumbs } from './Results.jsx';

export const AUDIT_POLICY = 'arn:aws:iam::aws:policy/service-role/AWSIoTDeviceDefenderAudit';

export function snsPublishPolicy(topicArn) {
  return { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['sns:Publish'], Resource: [topicArn || '*'] }] };
}

export function useTopics() {
  const [topics, setTopics] = useState([]);
  useEffect(() => {
    sns('ListTopics', {})
      .then((r) => setTopics((r.Topics || []).map((t) => t.TopicArn)))
      .catch(() => {});
  }, []);
  return topics;
}

export default function Settings() {
  const flash = useFlash();
  const can = usePerms();
  const readOnly = !can('iot', 'UpdateAccountAuditConfiguration');
  const [cfg, setCfg] = useState(null);
  const [checks, setChecks] = useState({});
  const [roleArn, setRoleArn] = useState('');
  const [snsOn, setSnsOn] = useState(false);
  const [topic, setTopic] = useState('');
  const [snsRole, setSnsRole] = useState('');
  const [filter, setFilter] = useState('');
  const [err, setErr] = useState(null);
  const [saving, setSaving] = useState(false);
  const topics = useTopics();

  useEffect(() => {
    iot('DescribeAccountAuditConfiguration', {})
      .then((c) => {
        setCfg(c);
        const m = {};
        Object.entries(c.auditCheckConfigurations || {}).forEach(([k, v]) => {
          m[k] = !!v.enabled;
        });
        setChecks(m);
        setRoleArn(c.roleArn || '');
        const t = (c.auditNotificationTargetConfigurations || {}).SNS;
        if (t) {
          setSnsOn(!!t.enabled);
          setTopic(t.targetArn || '');
          setSnsRole(t.roleArn || '');
        }
      })
      .catch(setErr);
  }, []);

  const save = async () => {
    setSaving(true);
    setErr(null);
    try {
      const input = { auditCheckConfigurations: {} };
      Object.entries(checks).forEach(([k, v]) => {
        input.auditCheckConfigurations[k] = { enabled: v };
      });
      if (roleArn) input.roleArn = roleArn;
      if (snsOn || topic || snsRole) {
        input.auditNotificationTargetConfigurations = { SNS: { enabled: snsOn } };
        if (topic) input.auditNotificationTargetConfigurations.SNS.targetArn = topic;
        if (snsRole) input.auditNotificationTargetConfigurations.SNS.roleArn = snsRole;
      }
      await iot('UpdateAccountAuditConfiguration', input);
      flash('success', 'Audit settings saved.');
    } catch (e) {
      setErr(e);
    } finally {
      setSaving(false);
    }
  };

  const field = fieldOf(err, ['targetArn', 'SNS', 'roleArn', 'auditCheckConfigurations']);
  const names = Object.keys(checks)
    .filter((n) => !filter || n.toLowerCase().includes(filter.toLowerCase()) || checkTitle(n).toLowerCase().includes(filter.toLowerCase()))
    .sort();
  const enabledCount = Object.values(checks).filter(Boolean).length;
  return (
    <ContentLayout
      header={
        <SpaceBetween size="s">
          <Crumbs items={[{ text: 'Audit', href: '/console/audit/results' }, { text: 'Settings', href: '/console/audit/settings' }]} />
          <Header variant="h1" description="Which checks audits run, the role they run with, and where notifications go.">
            Settings
          </Header>
        </SpaceBetween>
      }
    >
      <Form
        actions={
          <Button variant="primary" onClick={save} loading={saving} disabled={!cfg || readOnly}>
            Save
          </Button>
        }
        errorText={err && !field ? `${err.code}: ${err.message}` : null}
      >
        <SpaceBetween size="l">
          {readOnly && (
            <Alert type="info" header="Read-only">
              Your policies do not allow iot:UpdateAccountAuditConfiguration: these settings can be read, not changed.
            </Alert>
          )}
          <Container header={<Header variant="h2">Service permissions</Header>}>
            <RoleField
              label="Audit role"
              description="The role Device Defender assumes to read your IoT resources during an audit."
              value={roleArn}
              onChange={setRoleArn}
              errorText={field === 'roleArn' ? err.message : null}
              create={(name) => createIotRole(name, null, AUDIT_POLICY)}
              disabled={readOnly}
            />
          </Container>
          <Container header={<Header variant="h2">SNS alerts</Header>}>
            <SpaceBetween size="m">
              <Toggle checked={snsOn} onChange={(e) => setSnsOn(e.detail.checked)} disabled={readOnly}>
                Enable SNS alerts
              </Toggle>
              <FormField label="Topic" errorText={field === 'targetArn' || field === 'SNS' ? err.message : null}>
                <Select
                  selectedOption={topic ? { label: topic, value: topic } : null}
                  onChange={(e) => setTopic(e.detail.selectedOption.value)}
                  options={topics.map((t) => ({ label: t, value: t }))}
                  placeholder="Choose a topic"
                  disabled={readOnly}
                  ariaLabel="Topic"
                  empty="No topics"
                />
              </FormField>
              <RoleField
                label="Role for SNS"
                value={snsRole}
                onChange={setSnsRole}
                create={(name) => createIotRole(name, snsPublishPolicy(topic))}
                disabled={readOnly}
              />
            </SpaceBetween>
          </Container>
          <Table
        wrapLines
            header={
              <Header
                variant="h2"
                counter={`(${enabledCount}/${Object.keys(checks).length} enabled)`}
                actions={
                  <SpaceBetween direction="horizontal" size="xs">
                    <Button
                      disabled={readOnly}
                      onClick={() => setChecks(Object.fromEntries(Object.keys(checks).map((k) => [k, true])))}
                    >
                      Enable all
                    </Button>
                    <Button
                      disabled={readOnly}
                      onClick={() => setChecks(Object.fromEntries(Object.keys(checks).map((k) => [k, false])))}
                    >
                      Disable all
                    </Button>
                  </SpaceBetween>
                }
              >
                Checks
              </Header>
            }
            filter={<TextFilter filteringText={filter} onChange={(e) => setFilter(e.detail.filteringText)} filteringPlaceholder="Find checks" />}
            items={names.map((n) => ({ n }))}
            loading={!cfg && !err}
            empty={<Box textAlign="center">No checks<ErrorBox error={!cfg ? err : null} /></Box>}
            columnDefinitions={[
              { id: 'title', header: 'Check name', cell: ({ n }) => checkTitle(n) },
              { id: 'code', header: 'Check', cell: ({ n }) => n },
              { id: 'severity', header: 'Severity', cell: ({ n }) => checkSeverity(n) },
              {
                id: 'enabled',
                header: 'Enabled',
                minWidth: 140,
                cell: ({ n }) => (
                  <Toggle checked={!!checks[n]} disabled={readOnly} onChange={(e) => setChecks({ ...checks, [n]: e.detail.checked })} ariaLabel={'Enable ' + n}>
                    {checks[n] ? 'Enabled' : 'Disabled'}
                  </Toggle>
                ),
              },
            ]}
          />
        </SpaceBetween>
      </Form>
    </ContentLayout>
  );
}
