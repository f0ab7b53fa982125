// Wire shape of the private-channel handover, shared by the browser (private-channel.ts) and Node (node-channel.ts)
// sides and kept free of DOM and Node types so both can import it.

/** `type` of the handover message, so a malformed first message is refused rather than half-used. */
export const PRIVATE_CHANNEL_MESSAGE = 'idle-sense/private-channel';

/** The first message a runtime worker receives. Browser: the port travels in `event.ports[0]`; Node: in `port`. */
export interface PrivateChannelHandover {
  type: typeof PRIVATE_CHANNEL_MESSAGE;
  port?: unknown;
}
