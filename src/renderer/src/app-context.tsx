// React access to the store and the contract: one provider, two hooks.
import { createContext, useContext, type ReactNode } from 'react';
import { useStore } from 'zustand';
import type { BurrowApi } from '../../shared/contract';
import type { AppActions, AppState, AppStore } from './store/app-store';

interface AppContextValue {
  api: BurrowApi;
  store: AppStore;
}

const AppContext = createContext<AppContextValue | undefined>(undefined);

export function AppProvider({ api, store, children }: AppContextValue & { children: ReactNode }) {
  return <AppContext.Provider value={{ api, store }}>{children}</AppContext.Provider>;
}

function useAppContext(): AppContextValue {
  const value = useContext(AppContext);
  if (value === undefined) throw new Error('AppProvider is missing');
  return value;
}

export function useApp<T>(selector: (state: AppState & AppActions) => T): T {
  return useStore(useAppContext().store, selector);
}

export function useApi(): BurrowApi {
  return useAppContext().api;
}
