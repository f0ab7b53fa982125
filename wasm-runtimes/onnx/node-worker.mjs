// Entry file of the Node ONNX worker: registers tsx so the TypeScript worker module loads, whether the parent runs
// under tsx, vitest or plain node.
import { register } from 'tsx/esm/api';

register();
await import('./onnx.node-worker.ts');
