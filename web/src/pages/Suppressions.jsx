// Defend › Audit › Finding suppressions: list, create, edit, delete.
import { useCallback, useState } from 'react';
import Box from '@cloudscape-design/components/box';
import Button from '@cloudscape-design/components/button';
import Checkbox from '@cloudscape-design/components/checkbox';
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
import { CHECKS, checkTitle } from '../checks.js';
import { ErrorBox, fmtTime, usePaged } from '../common.jsx';
import { useFlash } from '../App.jsx';
import { usePerms } from '../perms.js';
import { Crumbs, ResourceRef } from './Results.jsx';

const ID_KINDS = [
  { label: 'Device certificate ID', value: 'deviceCertificateId' },
  { label: 'CA certificate ID', value: 'caCertificateId' },
  { label: 'Client ID', value: 'clientId' },
  { label: 'Cognito identity pool ID', value: 'cognitoIdentityPoolId' },
  { label: 'Policy (name:version)', value: 'policyVersionIdentifier' },
  { label: 'IAM role ARN', value: 'iamRoleArn' },
  { label: 'Role alias ARN', value: 'roleAliasArn' },
  { label: 'Account', value: 'account' },
];
const CHECK_OPTIONS = Object.keys(CHECKS)
  .sort()
  .map((c) => ({ label: checkTitle(c), value: c, description: c }));

function identifier(kind, value) {
  if (kind === 'policyVersionIdentifier') {
    const [policyName, policyVersionId] = value.split(':');
    return { policyVersionIdentifier: { policyName, policyVersionId } };
  }
  return { [kind]: value };
}

function SuppressionForm({ initial, onClose, onSaved }) {
  const editing = !!initial;
  const idKind = initial ? Object.keys(initial.resourceIdentifier)[0] : 'deviceCertificateId';
  const idVal = initial
    ? idKind === 'policyVersionIdentifier'
      ? `${initial.resourceIdentifier.policyVersionIdentifier.policyName}:${initial.resourceIdentifier.policyVersionIdentifier.policyVersionId}`
      : initial.resourceIdentifier[idKind]
    : '';
  const [check, setCheck] = useState(initial ? CHECK_OPTIONS.find((o) => o.value === initial.checkName) || { label: initial.checkName, value: initial.checkName } : null);
  const [kind, setKind] = useState(ID_KINDS.find((k) => k.value === idKind));
  const [value, setValue] = useState(idVal);
  const [indef, setIndef] = useState(initial ? !!initial.suppressIndefinitely : false);
  const [exp, setExp] = useState(initial && initial.expirationDate ? new Date(initial.expirationDate * 1000).toISOString().slice(0, 10) : '');
  const [desc, setDesc] = useState((initial && initial.description) || '');
  const [err, setErr] = useState(null);
  const save = async () => {
    setErr(null);
    try {
      const input = {
        checkName: check ? check.value : '',
        resourceIdentifier: identifier(kind.value, value),
        suppressIndefinitely: indef,
        description: desc,
      };
      if (!indef && exp) input.expirationDate = Date.parse(exp + 'T00:00:00Z') / 1000;
      if (editing) await iot('UpdateAuditSuppression', input);
      else await iot('CreateAuditSuppression', { ...input, clientRequestToken: crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) });
      onSaved();
    } catch (e) {
      setErr(e);
    }
  };
  const field = fieldOf(err, ['checkName', 'resourceIdentifier', 'expirationDate', 'description']);
  const fe = (f) => (field === f ? err.message : null);
  return (
    <Modal
      visible
      onDismiss={onClose}
      header={editing ? 'Edit suppression' : 'Create suppression'}
      footer={
        <Box float="right">
          <SpaceBetween direction="horizontal" size="xs">
            <Button variant="link" onClick={onClose}>Cancel</Button>
            <Button variant="primary" onClick={save}>{editing ? 'Save' : 'Create'}</Button>
          </SpaceBetween>
        </Box>
      }
    >
      <Form errorText={err && !field ? `${err.code}: ${err.message}` : null}>
        <SpaceBetween size="m">
          <FormField label="Check" errorText={fe('checkName')}>
            <Select selectedOption={check} onChange={(e) => setCheck(e.detail.selectedOption)} options={CHECK_OPTIONS} disabled={editing} placeholder="Choose a check" ariaLabel="Check" filteringType="auto" />
          </FormField>
          <FormField label="Resource identifier type">
            <Select selectedOption={kind} onChange={(e) => setKind(e.detail.selectedOption)} options={ID_KINDS} disabled={editing} ariaLabel="Resource identifier type" />
          </FormField>
          <FormField label="Resource identifier" errorText={fe('resourceIdentifier')}>
            <Input value={value} onChange={(e) => setValue(e.detail.value)} disabled={editing} ariaLabel="Resource identifier" />
          </FormField>
          <Checkbox checked={indef} onChange={(e) => setIndef(e.detail.checked)}>Suppress indefinitely</Checkbox>
          {!indef && (
            <FormField label="Expiration date" description="YYYY-MM-DD" errorText={fe('expirationDate')}>
              <Input value={exp} onChange={(e) => setExp(e.detail.value)} placeholder="YYYY-MM-DD" ariaLabel="Expiration date" />
            </FormField>
          )}
          <FormField label="Description" errorText={fe('description')}>
            <Input value={desc} onChange={(e) => setDesc(e.detail.value)} ariaLabel="Description" />
          </FormField>
        </SpaceBetween>
      </Form>
    </Modal>
  );
}

export default function Suppressions() {
  const flash = useFlash();
  const can = usePerms();
  const [selected, setSelected] = useState([]);
  const [form, setForm] = useState(null);
  const [confirm, setConfirm] = useState(false);
  const fetchPage = useCallback(async (nextToken) => {
    const r = await iot('ListAuditSuppressions', nextToken ? { nextToken, maxResults: 25 } : { maxResults: 25 });
    return { items: r.suppressions || [], nextToken: r.nextToken };
  }, []);
  const list = usePaged(fetchPage, []);
  return (
    <ContentLayout header={<Crumbs items={[{ text: 'Audit', href: '/console/audit/results' }, { text: 'Finding suppressions', href: '/console/audit/suppressions' }]} />}>
      <Table
        wrapLines
        header={
          <Header
            variant="h1"
            actions={
              <SpaceBetween direction="horizontal" size="xs">
                <Button disabled={selected.length !== 1 || !can('iot', 'UpdateAuditSuppression')} onClick={() => setForm({ initial: selected[0] })}>Edit</Button>
                <Button disabled={selected.length !== 1 || !can('iot', 'DeleteAuditSuppression')} onClick={() => setConfirm(true)}>Delete</Button>
                <Button variant="primary" disabled={!can('iot', 'CreateAuditSuppression')} onClick={() => setForm({ initial: null })}>Create</Button>
              </SpaceBetween>
            }
          >
            Finding suppressions
          </Header>
        }
        selectionType="single"
        selectedItems={selected}
        onSelectionChange={(e) => setSelected(e.detail.selectedItems)}
        items={list.items}
        loading={list.loading && list.items.length === 0}
        pagination={list.pagination}
        empty={<Box textAlign="center">No suppressions<ErrorBox error={list.error} /></Box>}
        columnDefinitions={[
          { id: 'check', header: 'Check', cell: (s) => checkTitle(s.checkName) },
          { id: 'resource', header: 'Resource', cell: (s) => <ResourceRef id={s.resourceIdentifier} /> },
          { id: 'exp', header: 'Expiration', cell: (s) => (s.suppressIndefinitely ? 'Indefinitely' : fmtTime(s.expirationDate)) },
          { id: 'desc', header: 'Description', cell: (s) => s.description || '-' },
        ]}
      />
      {form && (
        <SuppressionForm
          initial={form.initial}
          onClose={() => setForm(null)}
          onSaved={() => {
            setForm(null);
            setSelected([]);
            flash('success', 'Suppression saved.');
            list.reload();
          }}
        />
      )}
      <Modal
        visible={confirm}
        onDismiss={() => setConfirm(false)}
        header="Delete suppression"
        footer={
          <Box float="right">
            <SpaceBetween direction="horizontal" size="xs">
              <Button variant="link" onClick={() => setConfirm(false)}>Cancel</Button>
              <Button
                variant="primary"
                onClick={async () => {
                  try {
                    await iot('DeleteAuditSuppression', { checkName: selected[0].checkName, resourceIdentifier: selected[0].resourceIdentifier });
                    flash('success', 'Suppression deleted.');
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
        Delete this suppression?
      </Modal>
    </ContentLayout>
  );
}
