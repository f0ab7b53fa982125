// comlink ships types for its Node adapter only under the extensionless name; Node needs the real `.mjs` path.
declare module 'comlink/dist/esm/node-adapter.mjs' {
  export { default } from 'comlink/dist/esm/node-adapter';
}
