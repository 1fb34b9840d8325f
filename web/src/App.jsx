// The shell: sign-in gate, top navigation with sign-out, the Defend side navigation and
// the routes of every page.
import { createContext, useCallback, useContext, useEffect, useState } from 'react';
import { Route, Routes, useLocation, useNavigate } from 'react-router-dom';
import AppLayout from '@cloudscape-design/components/app-layout';
import Flashbar from '@cloudscape-design/components/flashbar';
import SideNavigation from '@cloudscape-design/components/side-navigation';
import TopNavigation from '@cloudscape-design/components/top-navigation';
import Spinner from '@cloudscape-design/components/spinner';
import { currentSession, getRegion, permissions, setRegion, setSignedOutHandler, signOut } from './api.js';
import { CONSOLE_OPERATIONS, makeCan, PermsContext, usePerms } from './perms.js';
import SignIn from './pages/SignIn.jsx';
import Dashboard from './pages/Dashboard.jsx';
import { AuditPage, CheckPage, Results } from './pages/Results.jsx';
import Settings from './pages/Settings.jsx';
import { ScheduleEdit, Schedules } from './pages/Schedules.jsx';
import Suppressions from './pages/Suppressions.jsx';
import { ActionEdit, MitigationActions } from './pages/MitigationActions.jsx';
import { ActionExecutions, TaskPage } from './pages/ActionExecutions.jsx';
import StartMitigation from './pages/StartMitigation.jsx';
import { CaDetail, CertificateDetail, PolicyDetail, RoleDetail, ThingDetail } from './pages/Details.jsx';

const FlashContext = createContext(() => {});
export const useFlash = () => useContext(FlashContext);

// The pages of the side navigation, each shown only when the identity may list what it
// shows.
const AUDIT_PAGES = [
  { text: 'Results', href: '/console/audit/results', op: 'ListAuditTasks' },
  { text: 'Schedules', href: '/console/audit/schedules', op: 'ListScheduledAudits' },
  { text: 'Settings', href: '/console/audit/settings', op: 'DescribeAccountAuditConfiguration' },
  { text: 'Finding suppressions', href: '/console/audit/suppressions', op: 'ListAuditSuppressions' },
];
const MITIGATION_PAGES = [
  { text: 'Mitigation actions', href: '/console/mitigation/actions', op: 'ListMitigationActions' },
  { text: 'Action executions', href: '/console/mitigation/executions', op: 'ListAuditMitigationActionsTasks' },
];

export function allowedPages(can) {
  return [...AUDIT_PAGES, ...MITIGATION_PAGES].filter((p) => can('iot', p.op));
}

function Nav() {
  const navigate = useNavigate();
  const loc = useLocation();
  const can = usePerms();
  const audit = AUDIT_PAGES.filter((p) => can('iot', p.op)).map(({ text, href }) => ({ type: 'link', text, href }));
  const mitigation = MITIGATION_PAGES.filter((p) => can('iot', p.op)).map(({ text, href }) => ({ type: 'link', text, href }));
  return (
    <SideNavigation
      header={{ href: '/console/', text: 'AWS IoT' }}
      activeHref={'/console' + loc.pathname}
      onFollow={(e) => {
        if (e.detail.external) return;
        e.preventDefault();
        navigate(e.detail.href.replace(/^\/console/, '') || '/');
      }}
      items={[
        { type: 'link', text: 'Dashboard', href: '/console/' },
        {
          type: 'section-group',
          title: 'Defend',
          items: [
            ...(audit.length
              ? [
                  {
                    type: 'expandable-link-group',
                    text: 'Audit',
                    href: audit[0].href,
                    defaultExpanded: true,
                    items: audit,
                  },
                ]
              : []),
            ...mitigation,
          ],
        },
      ]}
    />
  );
}

const REGIONS = ['us-east-1', 'us-east-2', 'us-west-1', 'us-west-2', 'ca-central-1', 'eu-west-1', 'eu-west-2',
  'eu-central-1', 'eu-north-1', 'ap-northeast-1', 'ap-northeast-2', 'ap-southeast-1', 'ap-southeast-2', 'ap-south-1',
  'sa-east-1', 'me-central-1'];

export default function App() {
  const [session, setSession] = useState(undefined);
  const [flash, setFlash] = useState([]);
  const [region, setRegionState] = useState(getRegion());
  const [perms, setPerms] = useState(null);
  const navigate = useNavigate();
  const location = useLocation();

  // a page's messages stay with it: leaving the page drops those older than a moment
  useEffect(() => {
    const now = Date.now();
    setFlash((f) => f.filter((x) => now - x.at < 1000));
  }, [location.pathname]);

  useEffect(() => {
    setSignedOutHandler(() => setSession(null));
    currentSession()
      .then(setSession)
      .catch(() => setSession(null));
  }, []);

  // what the identity may do, asked again when the session or the region changes
  useEffect(() => {
    if (!session) {
      setPerms(null);
      return;
    }
    let live = true;
    permissions(CONSOLE_OPERATIONS)
      .then((m) => live && setPerms(m))
      .catch(() => live && setPerms({}));
    return () => {
      live = false;
    };
  }, [session, region]);

  const addFlash = useCallback((type, content) => {
    const id = String(Date.now() + Math.random());
    setFlash((f) => [
      { type, content, id, at: Date.now(), dismissible: true, onDismiss: () => setFlash((g) => g.filter((x) => x.id !== id)) },
      ...f.slice(0, 2),
    ]);
  }, []);

  if (session === undefined) return <Spinner size="large" />;
  if (!session) return <SignIn onSignedIn={setSession} />;

  return (
    <PermsContext.Provider value={makeCan(perms)}>
    <FlashContext.Provider value={addFlash}>
      <TopNavigation
        identity={{ href: '/console/', title: 'iotdefender', onFollow: (e) => { e.preventDefault(); navigate('/'); } }}
        utilities={[
          {
            type: 'menu-dropdown',
            text: region,
            description: 'Region',
            ariaLabel: 'Region ' + region,
            items: REGIONS.map((r) => ({ id: r, text: r })),
            onItemClick: (e) => {
              setRegion(e.detail.id);
              setRegionState(e.detail.id);
            },
          },
          {
            type: 'button',
            text: session.root ? `Account ${session.account}` : `User ${session.userName} (account ${session.account})`,
          },
          {
            type: 'button',
            text: 'Sign out',
            onClick: async () => {
              try {
                await signOut();
              } finally {
                setSession(null);
                navigate('/');
              }
            },
          },
        ]}
      />
      <AppLayout
        navigation={<Nav />}
        toolsHide
        notifications={<Flashbar items={flash} />}
        content={
          <Routes key={region}>
            <Route path="/" element={<Dashboard />} />
            <Route path="/audit/results" element={<Results />} />
            <Route path="/audit/results/:taskId" element={<AuditPage />} />
            <Route path="/audit/results/:taskId/mitigate" element={<StartMitigation />} />
            <Route path="/audit/results/:taskId/:checkName" element={<CheckPage />} />
            <Route path="/audit/schedules" element={<Schedules />} />
            <Route path="/audit/schedules/create" element={<ScheduleEdit />} />
            <Route path="/audit/schedules/:name" element={<ScheduleEdit />} />
            <Route path="/audit/settings" element={<Settings />} />
            <Route path="/audit/suppressions" element={<Suppressions />} />
            <Route path="/mitigation/actions" element={<MitigationActions />} />
            <Route path="/mitigation/actions/create" element={<ActionEdit />} />
            <Route path="/mitigation/actions/:name" element={<ActionEdit />} />
            <Route path="/mitigation/executions" element={<ActionExecutions />} />
            <Route path="/mitigation/executions/:taskId" element={<TaskPage />} />
            <Route path="/certificates/:id" element={<CertificateDetail />} />
            <Route path="/cas/:id" element={<CaDetail />} />
            <Route path="/things/:name" element={<ThingDetail />} />
            <Route path="/policies/:name" element={<PolicyDetail />} />
            <Route path="/roles/:name" element={<RoleDetail />} />
            <Route path="*" element={<Dashboard />} />
          </Routes>
        }
      />
    </FlashContext.Provider>
    </PermsContext.Provider>
  );
}
