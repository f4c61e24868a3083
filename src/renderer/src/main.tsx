import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { AppProvider } from './app-context';
import { connectApi } from './api';
import { createAppStore } from './store/app-store';
import { connectStore, loadSnapshots } from './store/connect-store';
import './styles.css';

const store = createAppStore();
// Rendered at once: the header says it is connecting rather than the page staying blank.
const link = connectApi({
  state: (connection) => store.getState().setConnection(connection),
  connected: () => void loadSnapshots(link.api, store),
});
connectStore(link.api, store, { loadNow: link.connectedNow });
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <AppProvider api={link.api} store={store}>
      <App />
    </AppProvider>
  </StrictMode>,
);
