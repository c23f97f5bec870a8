import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/app.tsx';
import { createSessionClient } from './lib/api-client.tsx';
import { Session } from './lib/session.ts';
import { createRefreshCoordinator } from './lib/session-sync.ts';
import './styles.css';

const session = new Session(window.sessionStorage, createRefreshCoordinator());
const client = createSessionClient(session);

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <App session={session} client={client} />
  </StrictMode>,
);
