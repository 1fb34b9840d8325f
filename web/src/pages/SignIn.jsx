import { useState } from 'react';
import Box from '@cloudscape-design/components/box';
import Button from '@cloudscape-design/components/button';
import Container from '@cloudscape-design/components/container';
import Form from '@cloudscape-design/components/form';
import FormField from '@cloudscape-design/components/form-field';
import Header from '@cloudscape-design/components/header';
import Input from '@cloudscape-design/components/input';
import SpaceBetween from '@cloudscape-design/components/space-between';
import { signIn } from '../api.js';

export default function SignIn({ onSignedIn }) {
  const [ak, setAk] = useState('');
  const [sk, setSk] = useState('');
  const [err, setErr] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    if (e) e.preventDefault();
    setBusy(true);
    try {
      const s = await signIn(ak.trim(), sk);
      setSk('');
      onSignedIn(s);
    } catch (x) {
      setErr(x.message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Box padding="xxl">
      <div style={{ maxWidth: 480, margin: '0 auto' }}>
        <form onSubmit={submit}>
          <Form
            header={<Header variant="h1">Sign in to the iotdefender console</Header>}
            actions={
              <Button variant="primary" formAction="submit" loading={busy}>
                Sign in
              </Button>
            }
            errorText={err}
          >
            <Container>
              <SpaceBetween size="l">
                <FormField label="Access key ID">
                  <Input value={ak} onChange={(e) => setAk(e.detail.value)} ariaLabel="Access key ID" autoComplete="username" />
                </FormField>
                <FormField label="Secret access key" description="Sent once to the server to open a session; never stored in the browser.">
                  <Input
                    type="password"
                    value={sk}
                    onChange={(e) => setSk(e.detail.value)}
                    ariaLabel="Secret access key"
                    autoComplete="current-password"
                  />
                </FormField>
              </SpaceBetween>
            </Container>
          </Form>
        </form>
      </div>
    </Box>
  );
}
