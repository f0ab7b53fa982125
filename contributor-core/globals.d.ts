// The platform globals the contributor core uses, as both of its hosts (browsers, Node ≥ 20) provide them. Declared
// here, by the fields the core reads, so that neither the DOM lib nor Node's types are needed to type-check it.

/** An opaque timer handle (a number in browsers, a Timeout object in Node). */
interface CoreTimerHandle {}
declare function setTimeout(callback: () => void, ms?: number): CoreTimerHandle;
declare function clearTimeout(handle: CoreTimerHandle | undefined): void;

interface AbortSignal {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}
interface AbortController {
  readonly signal: AbortSignal;
  abort(): void;
}
declare var AbortController: { prototype: AbortController; new (): AbortController };

/** Web Crypto, for hashing chunk attachments into blob names. */
declare var crypto: { readonly subtle: { digest(algorithm: 'SHA-256', data: Uint8Array<ArrayBuffer>): Promise<ArrayBuffer> } };
