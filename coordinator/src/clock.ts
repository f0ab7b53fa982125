// Time enters the coordinator only through a Clock, so tests and background loops can be driven without sleeping.
export interface Clock {
  now(): number;
}
export const systemClock: Clock = { now: () => Date.now() };
