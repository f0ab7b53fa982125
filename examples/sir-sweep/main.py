"""Parameter sweep of the SIR epidemic model: one chunk = one (beta, gamma) pair.

    dS/dt = -beta * S * I / N
    dI/dt =  beta * S * I / N - gamma * I
    dR/dt =  gamma * I

beta is the transmission rate (contacts that infect, per infected person per day), gamma the recovery rate
(1 / infectious period in days), R0 = beta / gamma. A town of 1,000,000 with 10 initial cases is integrated with
classic Runge-Kutta (RK4, step 0.1 day) for 365 days. Each chunk returns the peak number infected at once, the day
of that peak, and the final size: how many people were ever infected (N - S at day 365).
"""

POPULATION = 1_000_000
INITIAL_INFECTED = 10
DAYS = 365
STEPS_PER_DAY = 10


def main(params):
    beta = float(params["beta"])
    gamma = float(params["gamma"])
    if beta < 0 or gamma <= 0:
        raise ValueError(f"need beta >= 0 and gamma > 0, got beta={beta} gamma={gamma}")
    dt = 1 / STEPS_PER_DAY

    def rates(s, i):
        infections = beta * s * i / POPULATION
        return -infections, infections - gamma * i

    s = float(POPULATION - INITIAL_INFECTED)
    i = float(INITIAL_INFECTED)
    peak_infected, peak_step = i, 0
    for step in range(1, DAYS * STEPS_PER_DAY + 1):
        ds1, di1 = rates(s, i)
        ds2, di2 = rates(s + dt / 2 * ds1, i + dt / 2 * di1)
        ds3, di3 = rates(s + dt / 2 * ds2, i + dt / 2 * di2)
        ds4, di4 = rates(s + dt * ds3, i + dt * di3)
        s += dt / 6 * (ds1 + 2 * ds2 + 2 * ds3 + ds4)
        i += dt / 6 * (di1 + 2 * di2 + 2 * di3 + di4)
        if i > peak_infected:
            peak_infected, peak_step = i, step

    return {
        "beta": beta,
        "gamma": gamma,
        "r0": round(beta / gamma, 4),
        "peak_infected": round(peak_infected, 1),
        "peak_day": round(peak_step / STEPS_PER_DAY, 1),
        "final_size": round(POPULATION - s, 1),
        "infected_at_end": round(i, 1),
    }
