// Read-only detail pages for what a finding names: certificate, CA, thing, policy, role.
import { useEffect, useState } from 'react';
import { useParams } from 'react-router-dom';
import Box from '@cloudscape-design/components/box';
import ColumnLayout from '@cloudscape-design/components/column-layout';
import Container from '@cloudscape-design/components/container';
import ContentLayout from '@cloudscape-design/components/content-layout';
import Header from '@cloudscape-design/components/header';
import SpaceBetween from '@cloudscape-design/components/space-between';
import { iam, iot } from '../api.js';
import { ErrorBox, fmtTime, NavLink, Status } from '../common.jsx';

function useLoad(fn, deps) {
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    fn().then(setData).catch(setError);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  return { data, error };
}

function Pairs({ pairs }) {
  return (
    <ColumnLayout columns={2} variant="text-grid">
      {pairs.map(([k, v]) => (
        <div key={k}>
          <Box variant="awsui-key-label">{k}</Box>
          <div>{v === undefined || v === null || v === '' ? '-' : v}</div>
        </div>
      ))}
    </ColumnLayout>
  );
}

function Page({ title, kind, error, children }) {
  return (
    <ContentLayout header={<Header variant="h1" description={kind}>{title}</Header>}>
      <SpaceBetween size="l">
        <ErrorBox error={error} />
        {children}
      </SpaceBetween>
    </ContentLayout>
  );
}

function Pre({ text }) {
  return <pre style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-all' }}>{text}</pre>;
}

export function CertificateDetail() {
  const { id } = useParams();
  const { data, error } = useLoad(async () => {
    const d = await iot('DescribeCertificate', { certificateId: id });
    const arn = d.certificateDescription.certificateArn;
    const things = await iot('ListPrincipalThings', { principal: arn, maxResults: 100 }).catch(() => ({}));
    const policies = await iot('ListAttachedPolicies', { target: arn, pageSize: 100 }).catch(() => ({}));
    return { ...d, things: things.things || [], policies: (policies.policies || []).map((p) => p.policyName) };
  }, [id]);
  const c = (data && data.certificateDescription) || null;
  return (
    <Page title={'Certificate ' + id} kind="Certificate" error={error}>
      {c && (
        <Container header={<Header variant="h2">Details</Header>}>
          <SpaceBetween size="m">
          <Pairs
            pairs={[
              ['Status', <Status key="s" value={c.status} />],
              ['Certificate ARN', c.certificateArn],
              ['Created', fmtTime(c.creationDate)],
              ['Last modified', fmtTime(c.lastModifiedDate)],
              ['Valid from', fmtTime(c.validity && c.validity.notBefore)],
              ['Valid until', fmtTime(c.validity && c.validity.notAfter)],
              ['CA certificate', c.caCertificateId],
              ['Mode', c.certificateMode],
              ['Things', data.things.length ? <SpaceBetween key="t" size="xxxs">{data.things.map((t) => <NavLink key={t} to={'/things/' + encodeURIComponent(t)}>{t}</NavLink>)}</SpaceBetween> : '-'],
              ['Policies', data.policies.length ? <SpaceBetween key="p" size="xxxs">{data.policies.map((p) => <NavLink key={p} to={'/policies/' + encodeURIComponent(p)}>{p}</NavLink>)}</SpaceBetween> : '-'],
            ]}
          />
          </SpaceBetween>
        </Container>
      )}
    </Page>
  );
}

export function CaDetail() {
  const { id } = useParams();
  const { data, error } = useLoad(() => iot('DescribeCACertificate', { certificateId: id }), [id]);
  const c = (data && data.certificateDescription) || null;
  return (
    <Page title={'CA certificate ' + id} kind="CA certificate" error={error}>
      {c && (
        <Container header={<Header variant="h2">Details</Header>}>
          <Pairs
            pairs={[
              ['Status', <Status key="s" value={c.status} />],
              ['Certificate ARN', c.certificateArn],
              ['Created', fmtTime(c.creationDate)],
              ['Valid until', fmtTime(c.validity && c.validity.notAfter)],
              ['Auto registration', c.autoRegistrationStatus],
            ]}
          />
        </Container>
      )}
    </Page>
  );
}

export function ThingDetail() {
  const { name } = useParams();
  const { data, error } = useLoad(async () => {
    const t = await iot('DescribeThing', { thingName: name });
    const p = await iot('ListThingPrincipals', { thingName: name }).catch(() => ({}));
    return { ...t, principals: p.principals || [] };
  }, [name]);
  return (
    <Page title={'Thing ' + name} kind="Thing" error={error}>
      {data && (
        <Container header={<Header variant="h2">Details</Header>}>
          <Pairs
            pairs={[
              ['Thing ARN', data.thingArn],
              ['Thing type', data.thingTypeName],
              ['Version', data.version],
              ['Attributes', JSON.stringify(data.attributes || {})],
              ['Certificates', data.principals.length ? <SpaceBetween key="c" size="xxxs">{data.principals.map((p) => <NavLink key={p} to={'/certificates/' + p.split('/').pop()}>{p.split('/').pop()}</NavLink>)}</SpaceBetween> : '-'],
            ]}
          />
        </Container>
      )}
    </Page>
  );
}

export function PolicyDetail() {
  const { name } = useParams();
  const { data, error } = useLoad(() => iot('GetPolicy', { policyName: name }), [name]);
  let doc = data && data.policyDocument;
  try {
    doc = JSON.stringify(JSON.parse(doc), null, 2);
  } catch {
    /* shown as stored */
  }
  return (
    <Page title={'Policy ' + name} kind="IoT policy" error={error}>
      {data && (
        <Container header={<Header variant="h2">Default version {data.defaultVersionId}</Header>}>
          <Pairs pairs={[['Policy ARN', data.policyArn], ['Last modified', fmtTime(data.lastModifiedDate)]]} />
          <Pre text={doc} />
        </Container>
      )}
    </Page>
  );
}

export function RoleDetail() {
  const { name } = useParams();
  const { data, error } = useLoad(async () => {
    const r = await iam('GetRole', { RoleName: name });
    const inline = await iam('ListRolePolicies', { RoleName: name }).catch(() => ({}));
    const attached = await iam('ListAttachedRolePolicies', { RoleName: name }).catch(() => ({}));
    return { ...r.Role, inline: inline.PolicyNames || [], attached: (attached.AttachedPolicies || []).map((p) => p.PolicyArn) };
  }, [name]);
  return (
    <Page title={'Role ' + name} kind="IAM role" error={error}>
      {data && (
        <Container header={<Header variant="h2">Details</Header>}>
          <Pairs
            pairs={[
              ['Role ARN', data.Arn],
              ['Created', fmtTime(data.CreateDate)],
              ['Inline policies', data.inline.join(', ')],
              ['Attached policies', data.attached.join(', ')],
            ]}
          />
        </Container>
      )}
    </Page>
  );
}
