// Pieces shared by the pages: server-side paging, dates, statuses, resource links, the
// role picker with "Create role", and flash messages.
import { useCallback, useEffect, useRef, useState } from 'react';
import { Link as RouterLink, useNavigate } from 'react-router-dom';
import Box from '@cloudscape-design/components/box';
import Button from '@cloudscape-design/components/button';
import FormField from '@cloudscape-design/components/form-field';
import Input from '@cloudscape-design/components/input';
import Link from '@cloudscape-design/components/link';
import Modal from '@cloudscape-design/components/modal';
import Pagination from '@cloudscape-design/components/pagination';
import Select from '@cloudscape-design/components/select';
import SpaceBetween from '@cloudscape-design/components/space-between';
import StatusIndicator from '@cloudscape-design/components/status-indicator';
import { iam } from './api.js';
import { usePerms } from './perms.js';

export function fmtTime(t) {
  if (t === undefined || t === null || t === '') return '-';
  const d = typeof t === 'number' ? new Date(t < 1e12 ? t * 1000 : t) : new Date(t);
  if (isNaN(d.getTime())) return String(t);
  return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

const STATUS_TYPES = {
  COMPLETED: 'success', ACTIVE: 'success', SUCCEEDED: 'success', COMPLIANT: 'success',
  IN_PROGRESS: 'in-progress', PENDING: 'pending', WAITING_FOR_DATA_COLLECTION: 'pending',
  FAILED: 'error', CANCELED: 'stopped', SKIPPED: 'stopped', INACTIVE: 'stopped', REVOKED: 'error',
  NON_COMPLIANT: 'warning', COMPLETED_COMPLIANT: 'success', COMPLETED_NON_COMPLIANT: 'warning',
};

export function Status({ value }) {
  return <StatusIndicator type={STATUS_TYPES[value] || 'info'}>{value || '-'}</StatusIndicator>;
}

export function NavLink({ to, children }) {
  const navigate = useNavigate();
  return (
    <Link
      href={'/console' + to}
      onFollow={(e) => {
        e.preventDefault();
        navigate(to);
      }}
    >
      {children}
    </Link>
  );
}

export function RouterAnchor({ to, children }) {
  return <RouterLink to={to}>{children}</RouterLink>;
}

// Server-side paging over an API list call: fetchPage(nextToken) returns
// {items, nextToken}. Only the current page is ever held.
export function usePaged(fetchPage, deps) {
  const [tokens, setTokens] = useState([null]);
  const [index, setIndex] = useState(0);
  const [items, setItems] = useState([]);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState(null);
  const [hasMore, setHasMore] = useState(false);
  const [reloadKey, setReloadKey] = useState(0);
  const fetchRef = useRef(fetchPage);
  fetchRef.current = fetchPage;

  useEffect(() => {
    setTokens([null]);
    setIndex(0);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);

  useEffect(() => {
    let live = true;
    setLoading(true);
    fetchRef
      .current(tokens[index] || undefined)
      .then((r) => {
        if (!live) return;
        setItems(r.items || []);
        setError(null);
        setHasMore(!!r.nextToken);
        if (r.nextToken) {
          setTokens((t) => {
            const n = t.slice(0, index + 1);
            n.push(r.nextToken);
            return n;
          });
        }
      })
      .catch((e) => live && setError(e))
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [index, reloadKey, ...deps]);

  const pagination = (
    <Pagination
      currentPageIndex={index + 1}
      pagesCount={Math.max(1, hasMore ? index + 2 : index + 1)}
      openEnd={hasMore}
      onChange={(e) => setIndex(Math.min(e.detail.currentPageIndex - 1, tokens.length - 1))}
      ariaLabels={{ nextPageLabel: 'Next page', previousPageLabel: 'Previous page', pageLabel: (n) => `Page ${n}` }}
    />
  );
  const reload = useCallback(() => setReloadKey((k) => k + 1), []);
  return { items, loading, error, pagination, reload };
}

// Polls fn every ms while active() says so.
export function usePoll(fn, active, ms = 1500) {
  useEffect(() => {
    if (!active) return undefined;
    const t = setInterval(fn, ms);
    return () => clearInterval(t);
  }, [active, fn, ms]);
}

export const IOT_TRUST = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'iot.amazonaws.com' }, Action: 'sts:AssumeRole' }],
});

// A role select listing the account's roles, with "Create role": create(name) must create
// the role and return its ARN.
export function RoleField({ label, value, onChange, create, errorText, description, disabled }) {
  const can = usePerms();
  const [roles, setRoles] = useState([]);
  const [open, setOpen] = useState(false);
  const [name, setName] = useState('');
  const [createErr, setCreateErr] = useState(null);
  const [busy, setBusy] = useState(false);
  const load = useCallback(async () => {
    const out = [];
    let marker;
    for (let i = 0; i < 10; i++) {
      const r = await iam('ListRoles', marker ? { Marker: marker, MaxItems: 100 } : { MaxItems: 100 });
      out.push(...(r.Roles || []));
      if (!r.IsTruncated || !r.Marker) break;
      marker = r.Marker;
    }
    setRoles(out);
  }, []);
  useEffect(() => {
    load().catch(() => {});
  }, [load]);
  const options = roles.map((r) => ({ label: r.RoleName, value: r.Arn, description: r.Arn }));
  const selected = options.find((o) => o.value === value) || (value ? { label: value, value } : null);
  return (
    <FormField label={label} errorText={errorText} description={description}>
      <SpaceBetween direction="horizontal" size="xs">
        <div style={{ minWidth: 320 }}>
          <Select
            selectedOption={selected}
            onChange={(e) => onChange(e.detail.selectedOption.value)}
            options={options}
            placeholder="Choose a role"
            ariaLabel={label}
            filteringType="auto"
            empty="No roles"
            disabled={disabled}
          />
        </div>
        <Button onClick={() => setOpen(true)} disabled={disabled || !can('iam', 'CreateRole')}>
          Create role
        </Button>
      </SpaceBetween>
      <Modal
        visible={open}
        onDismiss={() => setOpen(false)}
        header="Create a new role"
        footer={
          <Box float="right">
            <SpaceBetween direction="horizontal" size="xs">
              <Button variant="link" onClick={() => setOpen(false)}>
                Cancel
              </Button>
              <Button
                variant="primary"
                loading={busy}
                onClick={async () => {
                  setBusy(true);
                  try {
                    const arn = await create(name);
                    await load();
                    onChange(arn);
                    setOpen(false);
                    setName('');
                    setCreateErr(null);
                  } catch (e) {
                    setCreateErr(e.message);
                  } finally {
                    setBusy(false);
                  }
                }}
              >
                Create
              </Button>
            </SpaceBetween>
          </Box>
        }
      >
        <FormField label="Role name" errorText={createErr}>
          <Input value={name} onChange={(e) => setName(e.detail.value)} ariaLabel="Role name" />
        </FormField>
      </Modal>
    </FormField>
  );
}

// Creates a role IoT may assume with its permissions; if granting them fails, the role is
// deleted again, so nothing is half-made.
export async function createIotRole(name, inlinePolicy, managedArn) {
  const r = await iam('CreateRole', { RoleName: name, AssumeRolePolicyDocument: IOT_TRUST });
  try {
    if (managedArn) await iam('AttachRolePolicy', { RoleName: name, PolicyArn: managedArn });
    if (inlinePolicy)
      await iam('PutRolePolicy', { RoleName: name, PolicyName: name + 'Policy', PolicyDocument: JSON.stringify(inlinePolicy) });
  } catch (e) {
    if (managedArn) await iam('DetachRolePolicy', { RoleName: name, PolicyArn: managedArn }).catch(() => {});
    await iam('DeleteRole', { RoleName: name }).catch(() => {});
    throw e;
  }
  return r.Role.Arn;
}

export function ErrorBox({ error }) {
  if (!error) return null;
  return (
    <Box color="text-status-error" role="alert">
      {error.code ? error.code + ': ' : ''}
      {error.message}
    </Box>
  );
}

// An ARN's last path part (role name from a role ARN, topic name from a topic ARN).
export function arnName(arn) {
  if (!arn) return '';
  const s = arn.split(':').pop();
  return s.split('/').pop();
}
