#!/usr/bin/env node
// The `idle-sense-runner` command: loads the TypeScript runner through tsx (a dependency), as `npm run runner` does.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
