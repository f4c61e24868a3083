import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { AppProvider } from './app-context';
import { connectApi } from './api';
import { createAppStore } from './store/app-store';
import { connectStore } from './store/connect-store';
import './styles.css';

const root = createRoot(document.getElementById('root')!);
const store = createAppStore();

connectApi((reason) => store.getState().setConnection({ state: 'failed', error: reason }))
  .then((api) => {
    connectStore(api, store);
    root.render(
      <StrictMode>
        <AppProvider api={api} store={store}>
          <App />
        </AppProvider>
      </StrictMode>,
    );
  })
  .catch((error: Error) => {
    root.render(
      <p role="alert" className="error banner">
        {error.message}
      </p>,
    );
  });
