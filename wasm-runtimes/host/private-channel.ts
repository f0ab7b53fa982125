// The private channel between the page and a runtime worker (browser): the page creates a MessageChannel and
// transfers one port to the worker as its very first message; the worker takes it with a one-shot listener and
// serves Comlink on that port only. Nothing on the worker's global object answers RPC afterwards, so user code
// dispatching or posting Comlink-shaped messages to `self` reaches nobody, and the page never reads the Worker
// object's own `message` events (what user code posts there is never interpreted).
//
// The worker end is sealed against the realm it lives in: user code runs in the same JS realm and may replace any
// intrinsic (MessagePort.prototype.postMessage, the MessageEvent `data` getter, Function.prototype.call, ...) to
// catch the port as `this` the next time the host uses it. The methods the endpoint needs are captured when this
// module is evaluated, before any user code exists, and called through the captured Reflect.apply.
import type * as Comlink from 'comlink';
import { PRIVATE_CHANNEL_MESSAGE, type PrivateChannelHandover } from './channel-protocol.js';
import type { SpawnedWorker } from './thread.js';


/**
 * Page side: opens the private channel to a freshly created worker and returns the page's end (a Comlink Endpoint
 * for `Comlink.wrap`). Call it right after `new Worker(...)`, before anything else is posted.
 * @example
 * const worker = new Worker(url, { type: 'module' });
 * const remote = Comlink.wrap<ChunkRuntime>(openPrivateChannel(worker));
 */
export function openPrivateChannel(worker: Pick<Worker, 'postMessage'>): MessagePort {
  const { port1, port2 } = new MessageChannel();
  worker.postMessage({ type: PRIVATE_CHANNEL_MESSAGE } satisfies PrivateChannelHandover, [port2]);
  return port1;
}

/**
 * Page side: a browser Worker as RuntimeThread needs it, reached over its private port only. The Worker object's
 * own `message` events (where anything user code posts would arrive) have no listener.
 * @example
 * const thread = new RuntimeThread(() => overPrivateChannel(new Worker(url, { type: 'module' })));
 */
export function overPrivateChannel(worker: Worker): SpawnedWorker {
  const port = openPrivateChannel(worker);
  // Browsers have no "exit" event; an uncaught error (failed load, out of memory) is the closest sign of a dead worker.
  const exited = new Promise<string>((resolve) => {
    worker.addEventListener('error', (event) => resolve(event.message || 'uncaught error in the worker'), { once: true });
  });
  const terminate = () => {
    worker.terminate();
    port.close();
  };
  return { endpoint: port, terminate, exited };
}

// Captured at module evaluation: the worker imports this module before it can receive its first message, so these
// are the realm's original functions whatever user code does to the globals later.
const apply = Reflect.apply;
const freeze = Object.freeze;
const createObject = Object.create;
const MessagePortClass = typeof MessagePort === 'function' ? MessagePort : undefined;
const portPostMessage = MessagePortClass?.prototype.postMessage;
const portStart = MessagePortClass?.prototype.start;
const portClose = MessagePortClass?.prototype.close;
const addListener = typeof EventTarget === 'function' ? EventTarget.prototype.addEventListener : undefined;
const eventData = typeof MessageEvent === 'function' ? Object.getOwnPropertyDescriptor(MessageEvent.prototype, 'data')?.get : undefined;
const eventPorts = typeof MessageEvent === 'function' ? Object.getOwnPropertyDescriptor(MessageEvent.prototype, 'ports')?.get : undefined;

/**
 * Worker side: resolves with the sealed endpoint over the port the page hands over first. The listener on `scope`
 * is removed as soon as that message arrived; a first message that is not the handover closes the worker (the page
 * then sees it as a worker that never started).
 * @example
 * acceptPrivateChannel(self).then((endpoint) => Comlink.expose(runtime, endpoint));
 */
export function acceptPrivateChannel(scope: Pick<EventTarget, 'addEventListener' | 'removeEventListener'> & { close?(): void }): Promise<Comlink.Endpoint> {
  return new Promise((resolve, reject) => {
    const takePort = (event: Event) => {
      scope.removeEventListener('message', takePort);
      const data = eventData ? apply(eventData, event, []) : (event as MessageEvent).data;
      const ports = (eventPorts ? apply(eventPorts, event, []) : (event as MessageEvent).ports) as readonly MessagePort[];
      const port = ports.length === 1 ? ports[0] : undefined;
      if ((data as { type?: unknown } | null)?.type !== PRIVATE_CHANNEL_MESSAGE || !port || !(MessagePortClass && port instanceof MessagePortClass)) {
        reject(new Error('the first message to a runtime worker must hand over its private channel'));
        scope.close?.();
        return;
      }
      resolve(sealedEndpoint(port));
    };
    scope.addEventListener('message', takePort);
  });
}

/**
 * A Comlink Endpoint over `port` that never hands the port (or its events) to a function user code could have
 * replaced: listeners get a plain `{ data }` object read with the original getter, and every call on the port goes
 * through the captured originals. The port itself lives only in this closure.
 */
function sealedEndpoint(port: MessagePort): Comlink.Endpoint {
  if (!portPostMessage || !portStart || !portClose || !addListener || !eventData) throw new Error('this environment has no MessagePort');
  const endpoint = createObject(null) as Comlink.Endpoint & { close(): void };
  endpoint.postMessage = (message: unknown, transfer?: Transferable[]) => apply(portPostMessage, port, [message, transfer ?? []]);
  endpoint.addEventListener = (_type: string, listener: EventListenerOrEventListenerObject) => {
    const deliver = (event: Event) => {
      const message = { data: apply(eventData, event, []) as unknown, origin: '' };
      if (typeof listener === 'function') listener(message as unknown as Event);
      else listener.handleEvent(message as unknown as Event);
    };
    apply(addListener, port, ['message', deliver]);
  };
  // Comlink removes its listener only on a RELEASE request, which the page never sends: the channel lives as long as
  // the worker does.
  endpoint.removeEventListener = () => {};
  endpoint.start = () => apply(portStart, port, []);
  endpoint.close = () => apply(portClose, port, []);
  return freeze(endpoint);
}
