// Checks the SIR sweep two ways: against a TypeScript port of the same RK4 integration (every field, tight
// tolerance), and against closed-form facts of the SIR model that no integrator enters into:
//  - S * exp(-R0 * R / N) is conserved, so the final size z = N - S(inf) solves S(inf) = S0 * exp(-R0 * z / N);
//  - the peak, where beta * S / N = gamma, is I_max = S0 + I0 - (N / R0) * (1 + ln(R0 * S0 / N)).
import type { ChunkResult } from '../../protocol/index.js';
import { asRecord, numberField, outputsInOrder } from '../checking.js';
import job from './job.json' with { type: 'json' };

// The model's fixed setting, as in main.py.
const POPULATION = 1_000_000;
const INITIAL_INFECTED = 10;
const DAYS = 365;
const STEPS_PER_DAY = 10;
const DT = 1 / STEPS_PER_DAY;

interface Outcome {
  r0: number;
  peak_infected: number;
  peak_day: number;
  final_size: number;
  infected_at_end: number;
}

/** RK4 on the same grid as main.py, unrounded. */
function simulate(beta: number, gamma: number): Outcome {
  const rates = (s: number, i: number): [number, number] => {
    const infections = (beta * s * i) / POPULATION;
    return [-infections, infections - gamma * i];
  };
  let s = POPULATION - INITIAL_INFECTED;
  let i = INITIAL_INFECTED;
  let peakInfected = i;
  let peakStep = 0;
  for (let step = 1; step <= DAYS * STEPS_PER_DAY; step++) {
    const [ds1, di1] = rates(s, i);
    const [ds2, di2] = rates(s + (DT / 2) * ds1, i + (DT / 2) * di1);
    const [ds3, di3] = rates(s + (DT / 2) * ds2, i + (DT / 2) * di2);
    const [ds4, di4] = rates(s + DT * ds3, i + DT * di3);
    s += (DT / 6) * (ds1 + 2 * ds2 + 2 * ds3 + ds4);
    i += (DT / 6) * (di1 + 2 * di2 + 2 * di3 + di4);
    if (i > peakInfected) {
      peakInfected = i;
      peakStep = step;
    }
  }
  return { r0: beta / gamma, peak_infected: peakInfected, peak_day: peakStep / STEPS_PER_DAY, final_size: POPULATION - s, infected_at_end: i };
}

/** Final size of the continuous model run to the end, by bisection on its final-size equation (one root in (0, S0)). */
function analyticFinalSize(r0: number): number {
  const s0 = POPULATION - INITIAL_INFECTED;
  let low = 0;
  let high = s0;
  for (let iteration = 0; iteration < 200; iteration++) {
    const middle = (low + high) / 2;
    if (middle - s0 * Math.exp((-r0 * (POPULATION - middle)) / POPULATION) < 0) low = middle;
    else high = middle;
  }
  return POPULATION - low;
}

/** Peak of the continuous model, or undefined when R0 * S0 / N <= 1 and infections only fall from day 0. */
function analyticPeak(r0: number): number | undefined {
  const s0 = POPULATION - INITIAL_INFECTED;
  if ((r0 * s0) / POPULATION <= 1) return undefined;
  return s0 + INITIAL_INFECTED - (POPULATION / r0) * (1 + Math.log((r0 * s0) / POPULATION));
}

function expectClose(index: number, field: string, actual: number, expected: number, tolerance: number, reference: string): void {
  if (!(Math.abs(actual - expected) <= tolerance)) {
    throw new Error(`chunk ${index}: ${field} = ${actual}, but ${reference} gives ${expected.toFixed(3)} (tolerance ${tolerance.toFixed(3)})`);
  }
}

export function check(results: ChunkResult[]): void {
  const outputs = outputsInOrder(results, job.inputs.length);
  outputs.forEach((output, index) => {
    const { beta, gamma } = job.inputs[index];
    const record = asRecord(output, index);
    if (record.beta !== beta || record.gamma !== gamma) {
      throw new Error(`chunk ${index}: answered beta=${String(record.beta)} gamma=${String(record.gamma)}, but its input was beta=${beta} gamma=${gamma}`);
    }
    const got = Object.fromEntries(
      (['r0', 'peak_infected', 'peak_day', 'final_size', 'infected_at_end'] as const).map((field) => [field, numberField(record, field, index)]),
    ) as unknown as Outcome;

    // 1. The port: main.py rounds people to 0.1 and R0 to 1e-4; the peak may land one grid step away on a near-tie.
    const port = simulate(beta, gamma);
    const reference = 'the TypeScript RK4 port';
    expectClose(index, 'r0', got.r0, port.r0, 1e-4, reference);
    expectClose(index, 'peak_infected', got.peak_infected, port.peak_infected, 0.5, reference);
    expectClose(index, 'peak_day', got.peak_day, port.peak_day, DT + 1e-9, reference);
    expectClose(index, 'final_size', got.final_size, port.final_size, 0.5, reference);
    expectClose(index, 'infected_at_end', got.infected_at_end, port.infected_at_end, 0.5, reference);

    // 2. Closed forms. A peak sampled every DT days can undershoot the true maximum by at most
    // |I''| * DT^2 / 8, and at the peak I'' = -beta * gamma * I^2 / N; allow 1.5 times that plus rounding.
    const peak = analyticPeak(beta / gamma);
    if (peak !== undefined && got.peak_day < DAYS - 1) {
      const samplingError = (beta * gamma * peak * peak * DT * DT) / (8 * POPULATION);
      expectClose(index, 'peak_infected', got.peak_infected, peak - samplingError / 2, samplingError * 0.75 + 1, 'the closed-form SIR peak');
    }
    if (peak === undefined && (got.peak_day !== 0 || got.peak_infected !== INITIAL_INFECTED)) {
      throw new Error(`chunk ${index}: with R0 = ${got.r0} infections can only fall, yet the peak is ${got.peak_infected} on day ${got.peak_day}`);
    }
    // The final-size equation describes the epidemic run to its end; only compare once it has (under one person left).
    if (got.infected_at_end < 1) {
      expectClose(index, 'final_size', got.final_size, analyticFinalSize(beta / gamma), 1 + 10 * got.infected_at_end, 'the SIR final-size equation');
    }
  });
}
