// runner/native: runs one native chunk (a command, with optional source, files and container image) in a disposable
// workspace under bubblewrap or docker/podman. Node-only; nothing here knows the coordinator or the runner's loop.
// The sandbox in detail: docs/runner-sandbox.md.
export { detectSandbox, type SandboxInfo, type DetectOptions, type ContainerEngine } from './detect.js';
export { type NativeLimits } from './limits.js';
export {
  runNativeChunk,
  startNativeChunk,
  sweepStaleContainers,
  argvForInput,
  NativeChunk,
  type NativeJob,
  type NativeRun,
  type RunNativeOptions,
} from './run.js';
export {
  createWorkspace,
  removeWorkspace,
  sweepStaleWorkspaces,
  prepareWorkspace,
  listFiles,
  checkFileName,
  WORKSPACE_PREFIX,
  type WorkspaceFile,
} from './workspace.js';
export { bwrapCommand } from './bwrap.js';
export { containerCommand, CONTAINER_PREFIX } from './container.js';
