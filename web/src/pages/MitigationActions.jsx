// Defend › Mitigation actions: list, create with the form each action type needs and an
// execution role ("Create role" grants exactly that action's permission), edit (the name
// cannot change), delete with confirmation.
import { useCallback, useEffect, useState } from 'react';
import { useNavigate, useParams } from 'react-router-dom';
import Box from '@cloudscape-design/components/box';
import Button from '@cloudscape-design/components/button';
import Checkbox from '@cloudscape-design/components/checkbox';
import Container from '@cloudscape-design/components/container';
import ContentLayout from '@cloudscape-design/components/content-layout';
import Form from '@cloudscape-design/components/form';
import FormField from '@cloudscape-design/components/form-field';
import Header from '@cloudscape-design/components/header';
import Input from '@cloudscape-design/components/input';
import Modal from '@cloudscape-design/components/modal';
import Multiselect from '@cloudscape-design/components/multiselect';
import Select from '@cloudscape-design/components/select';
import SpaceBetween from '@cloudscape-design/components/space-between';
import Table from '@cloudscape-design/components/table';
import { fieldOf, iot } from '../api.js';
import { ACTION_TYPES, PARAM_KEYS } from '../checks.js';
import { createIotRole, ErrorBox, fmtTime, NavLink, RoleField, usePaged } from '../common.jsx';
import { useFlash } from '../App.jsx';
import { usePerms } from '../perms.js';
import { Crumbs } from './Results.jsx';
import { useTopics } from './Settings.jsx';

export async function listAllActions(actionType) {
  const out = [];
  let nextToken;
  for (let i = 0; i < 40; i++) {
    const input = { maxResults: 250 };
    if (actionType) input.actionType = actionType;
    if (nextToken) input.nextToken = nextToken;
    const r = await iot('ListMitigationActions', input);
    out.push(...(r.actionIdentifiers || []));
    nextToken = r.nextToken;
    if (!nextToken) break;
  }
  return out;
}

export function MitigationActions() {
  const can = usePerms();
  const navigate = useNavigate();
  const flash = useFlash();
  const [selected, setSelected] = useState([]);
  const [confirm, setConfirm] = useState(false);
  const fetchPage = useCallback(async (nextToken) => {
    const input = { maxResults: 25 };
    if (nextToken) input.nextToken = nextToken;
    const r = await iot('ListMitigationActions', input);
    const items = await Promise.all(
      (r.actionIdentifiers || []).map((a) =>
        iot('DescribeMitigationAction', { actionName: a.actionName })
          .then((d) => ({ ...a, ...d }))
          .catch(() => a),
      ),
    );
    return { items, nextToken: r.nextToken };
  }, []);
  const list = usePaged(fetchPage, []);
  const del = async () => {
    try {
      for (const a of selected) await iot('DeleteMitigationAction', { actionName: a.actionName });
      flash('success', `Deleted ${selected.map((a) => a.actionName).join(', ')}.`);
      setSelected([]);
      list.reload();
    } catch (e) {
      flash('error', `${e.code}: ${e.message}`);
    } finally {
      setConfirm(false);
    }
  };
  return (
    <ContentLayout header={<Crumbs items={[{ text: 'Mitigation actions', href: '/console/mitigation/actions' }]} />}>
      <Table
        wrapLines
        header={
          <Header
            variant="h1"
            actions={
              <SpaceBetween direction="horizontal" size="xs">
                <Button disabled={selected.length !== 1 || !can('iot', 'UpdateMitigationAction')} onClick={() => navigate('/mitigation/actions/' + encodeURIComponent(selected[0].actionName))}>
                  Edit
                </Button>
                <Button disabled={!selected.length || !can('iot', 'DeleteMitigationAction')} onClick={() => setConfirm(true)}>
                  Delete
                </Button>
                <Button variant="primary" disabled={!can('iot', 'CreateMitigationAction')} onClick={() => navigate('/mitigation/actions/create')}>
                  Create
                </Button>
              </SpaceBetween>
            }
          >
            Mitigation actions
          </Header>
        }
        selectionType="multi"
        selectedItems={selected}
        onSelectionChange={(e) => setSelected(e.detail.selectedItems)}
        trackBy="actionName"
        items={list.items}
        loading={list.loading && list.items.length === 0}
        pagination={list.pagination}
        empty={<Box textAlign="center">No mitigation actions<ErrorBox error={list.error} /></Box>}
        columnDefinitions={[
          { id: 'name', header: 'Name', cell: (a) => <NavLink to={'/mitigation/actions/' + encodeURIComponent(a.actionName)}>{a.actionName}</NavLink> },
          { id: 'type', header: 'Action type', cell: (a) => a.actionType || '-' },
          { id: 'role', header: 'Action execution role', cell: (a) => a.roleArn || '-' },
          { id: 'created', header: 'Date created', cell: (a) => fmtTime(a.creationDate) },
        ]}
      />
      <Modal
        visible={confirm}
        onDismiss={() => setConfirm(false)}
        header="Delete mitigation actions"
        footer={
          <Box float="right">
            <SpaceBetween direction="horizontal" size="xs">
              <Button variant="link" onClick={() => setConfirm(false)}>Cancel</Button>
              <Button variant="primary" onClick={del}>Delete</Button>
            </SpaceBetween>
          </Box>
        }
      >
        Delete {selected.map((a) => a.actionName).join(', ')}? This cannot be undone.
      </Modal>
    </ContentLayout>
  );
}

const TYPE_OPTIONS = Object.entries(ACTION_TYPES).map(([v, t]) => ({ label: t.label, value: v, description: v }));
const LOG_LEVELS = ['ERROR', 'WARN', 'INFO', 'DEBUG'].map((v) => ({ label: v, value: v }));

function permissionPolicy(type) {
  return { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ACTION_TYPES[type].permissions, Resource: ['*'] }] };
}

export function ActionEdit() {
  const { name: editName } = useParams();
  const navigate = useNavigate();
  const flash = useFlash();
  const editing = !!editName;
  const [name, setName] = useState('');
  const [type, setType] = useState(null);
  const [roleArn, setRoleArn] = useState('');
  const [groups, setGroups] = useState([]);
  const [allGroups, setAllGroups] = useState([]);
  const [override, setOverride] = useState(false);
  const [topic, setTopic] = useState('');
  const [logRole, setLogRole] = useState('');
  const [logLevel, setLogLevel] = useState(LOG_LEVELS[0]);
  const [err, setErr] = useState(null);
  const [busy, setBusy] = useState(false);
  const topics = useTopics();

  useEffect(() => {
    iot('ListThingGroups', { maxResults: 250 })
      .then((r) => setAllGroups((r.thingGroups || []).map((g) => g.groupName)))
      .catch(() => {});
  }, []);

  useEffect(() => {
    if (!editing) return;
    iot('DescribeMitigationAction', { actionName: editName })
      .then((a) => {
        setName(a.actionName);
        setType(TYPE_OPTIONS.find((o) => o.value === a.actionType) || null);
        setRoleArn(a.roleArn || '');
        const p = a.actionParams || {};
        if (p.addThingsToThingGroupParams) {
          setGroups(p.addThingsToThingGroupParams.thingGroupNames || []);
          setOverride(!!p.addThingsToThingGroupParams.overrideDynamicGroups);
        }
        if (p.publishFindingToSnsParams) setTopic(p.publishFindingToSnsParams.topicArn || '');
        if (p.enableIoTLoggingParams) {
          setLogRole(p.enableIoTLoggingParams.roleArnForLogging || '');
          setLogLevel(LOG_LEVELS.find((o) => o.value === p.enableIoTLoggingParams.logLevel) || LOG_LEVELS[0]);
        }
      })
      .catch(setErr);
  }, [editing, editName]);

  const params = () => {
    const t = type && type.value;
    const p = {};
    if (t === 'UPDATE_DEVICE_CERTIFICATE' || t === 'UPDATE_CA_CERTIFICATE') p[PARAM_KEYS[t]] = { action: 'DEACTIVATE' };
    if (t === 'ADD_THINGS_TO_THING_GROUP')
      p[PARAM_KEYS[t]] = { thingGroupNames: groups, overrideDynamicGroups: override };
    if (t === 'REPLACE_DEFAULT_POLICY_VERSION') p[PARAM_KEYS[t]] = { templateName: 'BLANK_POLICY' };
    if (t === 'ENABLE_IOT_LOGGING') p[PARAM_KEYS[t]] = { roleArnForLogging: logRole, logLevel: logLevel.value };
    if (t === 'PUBLISH_FINDING_TO_SNS') p[PARAM_KEYS[t]] = { topicArn: topic };
    return p;
  };

  const submit = async () => {
    setBusy(true);
    setErr(null);
    try {
      if (!type) throw Object.assign(new Error('Choose an action type'), { code: 'InvalidRequestException', field: 'actionType' });
      if (editing) await iot('UpdateMitigationAction', { actionName: name, roleArn, actionParams: params() });
      else await iot('CreateMitigationAction', { actionName: name, roleArn, actionParams: params() });
      flash('success', `Mitigation action ${name} ${editing ? 'updated' : 'created'}.`);
      navigate('/mitigation/actions');
    } catch (e) {
      setErr(e);
    } finally {
      setBusy(false);
    }
  };
  const field = err && (err.field || fieldOf(err, ['actionName', 'thingGroupNames', 'topicArn', 'roleArnForLogging', 'logLevel', 'roleArn', 'actionParams']));
  const fe = (f) => (field === f ? err.message : null);
  const t = type && type.value;
  return (
    <ContentLayout
      header={
        <SpaceBetween size="s">
          <Crumbs
            items={[
              { text: 'Mitigation actions', href: '/console/mitigation/actions' },
              { text: editing ? editName : 'Create', href: '/console/mitigation/actions/' + (editing ? encodeURIComponent(editName) : 'create') },
            ]}
          />
          <Header variant="h1">{editing ? 'Edit mitigation action' : 'Create a new mitigation action'}</Header>
        </SpaceBetween>
      }
    >
      <Form
        actions={
          <SpaceBetween direction="horizontal" size="xs">
            <Button variant="link" onClick={() => navigate('/mitigation/actions')}>Cancel</Button>
            <Button variant="primary" loading={busy} onClick={submit}>{editing ? 'Save' : 'Save'}</Button>
          </SpaceBetween>
        }
        errorText={err && !field ? `${err.code}: ${err.message}` : null}
      >
        <Container header={<Header variant="h2">Action properties</Header>}>
          <SpaceBetween size="l">
            <FormField label="Action name" errorText={fe('actionName')} description={editing ? 'The name cannot change.' : null}>
              <Input value={name} onChange={(e) => setName(e.detail.value)} disabled={editing} ariaLabel="Action name" />
            </FormField>
            <FormField label="Action type" errorText={fe('actionType') || fe('actionParams')}>
              <Select
                selectedOption={type}
                onChange={(e) => setType(e.detail.selectedOption)}
                options={TYPE_OPTIONS}
                disabled={editing}
                placeholder="Choose an action type"
                ariaLabel="Action type"
              />
            </FormField>
            {(t === 'UPDATE_DEVICE_CERTIFICATE' || t === 'UPDATE_CA_CERTIFICATE') && (
              <FormField label="Action" description="The only action AWS supports: the certificate becomes INACTIVE.">
                <Input value="DEACTIVATE" readOnly ariaLabel="Certificate action" />
              </FormField>
            )}
            {t === 'REPLACE_DEFAULT_POLICY_VERSION' && (
              <FormField label="Policy template">
                <Input value="BLANK_POLICY" readOnly ariaLabel="Policy template" />
              </FormField>
            )}
            {t === 'ADD_THINGS_TO_THING_GROUP' && (
              <>
                <FormField label="Thing groups" description="The groups the things of a finding join." errorText={fe('thingGroupNames')}>
                  <Multiselect
                    selectedOptions={groups.map((g) => ({ label: g, value: g }))}
                    onChange={(e) => setGroups(e.detail.selectedOptions.map((o) => o.value))}
                    options={allGroups.map((g) => ({ label: g, value: g }))}
                    placeholder="Choose thing groups"
                    ariaLabel="Thing groups"
                    filteringType="auto"
                    empty="No thing groups"
                  />
                </FormField>
                <Checkbox checked={override} onChange={(e) => setOverride(e.detail.checked)}>
                  Override dynamic groups
                </Checkbox>
              </>
            )}
            {t === 'PUBLISH_FINDING_TO_SNS' && (
              <FormField label="Topic" errorText={fe('topicArn')}>
                <Select
                  selectedOption={topic ? { label: topic, value: topic } : null}
                  onChange={(e) => setTopic(e.detail.selectedOption.value)}
                  options={topics.map((x) => ({ label: x, value: x }))}
                  placeholder="Choose a topic"
                  ariaLabel="Topic"
                />
              </FormField>
            )}
            {t === 'ENABLE_IOT_LOGGING' && (
              <>
                <RoleField
                  label="Role for logging"
                  value={logRole}
                  onChange={setLogRole}
                  errorText={fe('roleArnForLogging')}
                  create={(n) =>
                    createIotRole(n, {
                      Version: '2012-10-17',
                      Statement: [{ Effect: 'Allow', Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'], Resource: ['*'] }],
                    })
                  }
                />
                <FormField label="Log level" errorText={fe('logLevel')}>
                  <Select selectedOption={logLevel} onChange={(e) => setLogLevel(e.detail.selectedOption)} options={LOG_LEVELS} ariaLabel="Log level" />
                </FormField>
              </>
            )}
            <RoleField
              label="Action execution role"
              description={t ? `Needs ${ACTION_TYPES[t].permissions.join(', ')}.` : 'Choose an action type first.'}
              value={roleArn}
              onChange={setRoleArn}
              errorText={fe('roleArn')}
              create={(n) => {
                if (!t) return Promise.reject(new Error('Choose an action type first'));
                return createIotRole(n, permissionPolicy(t));
              }}
            />
          </SpaceBetween>
        </Container>
      </Form>
    </ContentLayout>
  );
}
