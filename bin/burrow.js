#!/usr/bin/env node
// The `burrow` command. Sources are TypeScript; tsx compiles them on load so
// `npx burrow` works straight after `npm ci`, with no build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/main/cli/main.ts');
