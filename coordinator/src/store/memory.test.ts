import { runStoreContract } from './store.case.test.js';
import { MemoryStore } from './memory.js';

runStoreContract({ name: 'memory', newStore: (policy, random) => new MemoryStore(policy, random) });
