"""Fine-tunes a small character-level language model on the text shipped with the job, on whatever the runner has:
a CUDA GPU when there is one, else the CPU. A native idle-sense job (runs under the headless runner, not in tabs).

Reads /work/input.json  {"steps", "lr", "context", "hidden", "batch", "seed", "corpus"}
Writes /work/output.json {"device", "steps", "resumedFrom", "initialLoss", "finalLoss", "losses", ...}
       /work/out/model.pt  the trained weights (state_dict) and the vocabulary: the chunk's attachment
       /work/checkpoint/state.pt  every `checkpointEvery` steps: a chunk reissued after a lost lease resumes from it
"""
import json
import math
import os
import time

import torch
from torch import nn

WORK = os.environ.get("IDLE_SENSE_WORK", "/work")
CHECKPOINT = os.path.join(WORK, "checkpoint", "state.pt")

with open(os.path.join(WORK, "input.json")) as f:
    cfg = json.load(f)

steps = int(cfg.get("steps", 400))
context = int(cfg.get("context", 16))
hidden = int(cfg.get("hidden", 128))
batch = int(cfg.get("batch", 64))
lr = float(cfg.get("lr", 3e-3))
seed = int(cfg.get("seed", 1))
every = int(cfg.get("checkpointEvery", 50))
step_delay = float(cfg.get("stepDelay", 0))  # tests slow training down to kill the runner mid-chunk

with open(os.path.join(WORK, cfg.get("corpus", "corpus.txt")), encoding="utf-8") as f:
    text = f.read()
vocab = sorted(set(text))
index = {c: i for i, c in enumerate(vocab)}
data = torch.tensor([index[c] for c in text], dtype=torch.long)

device = "cuda" if torch.cuda.is_available() else "cpu"
torch.manual_seed(seed)


class CharModel(nn.Module):
    """Embeds the last `context` characters and predicts the next one with a two-layer MLP."""

    def __init__(self, vocab_size):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, 24)
        self.mlp = nn.Sequential(nn.Linear(24 * context, hidden), nn.Tanh(), nn.Linear(hidden, vocab_size))

    def forward(self, x):
        return self.mlp(self.embed(x).flatten(1))


model = CharModel(len(vocab)).to(device)
optimizer = torch.optim.Adam(model.parameters(), lr=lr)
generator = torch.Generator().manual_seed(seed)
losses = []
start_step = 0

if os.path.exists(CHECKPOINT):
    state = torch.load(CHECKPOINT, map_location=device)
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    generator.set_state(state["generator"])
    losses = state["losses"]
    start_step = state["step"]


def batch_at():
    starts = torch.randint(0, len(data) - context - 1, (batch,), generator=generator)
    x = torch.stack([data[s : s + context] for s in starts])
    y = torch.stack([data[s + context] for s in starts])
    return x.to(device), y.to(device)


def evaluate():
    """Mean loss over a fixed slice of the text: comparable before and after training."""
    with torch.no_grad():
        n = min(2000, len(data) - context - 1)
        x = torch.stack([data[s : s + context] for s in range(n)]).to(device)
        y = data[context : context + n].to(device)
        return nn.functional.cross_entropy(model(x), y).item()


initial = state["initial"] if start_step else evaluate()

began = time.time()
for step in range(start_step, steps):
    x, y = batch_at()
    loss = nn.functional.cross_entropy(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if step % 10 == 0:
        losses.append(round(loss.item(), 4))
    if step_delay:
        time.sleep(step_delay)
    if (step + 1) % every == 0 and step + 1 < steps:
        os.makedirs(os.path.dirname(CHECKPOINT), exist_ok=True)
        temp = CHECKPOINT + ".tmp"
        torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "generator": generator.get_state(),
                    "losses": losses, "step": step + 1, "initial": initial}, temp)
        os.replace(temp, CHECKPOINT)  # a checkpoint upload never sees a half-written file

final = evaluate()
os.makedirs(os.path.join(WORK, "out"), exist_ok=True)
torch.save({"model": model.state_dict(), "vocab": "".join(vocab), "context": context, "hidden": hidden},
           os.path.join(WORK, "out", "model.pt"))
with open(os.path.join(WORK, "output.json"), "w") as f:
    json.dump({
        "device": device,
        "gpu": torch.cuda.get_device_name(0) if device == "cuda" else None,
        "torch": torch.__version__,
        "steps": steps,
        "resumedFrom": start_step,
        "initialLoss": round(initial, 4),
        "finalLoss": round(final, 4),
        "uniformLoss": round(math.log(len(vocab)), 4),
        "losses": losses,
        "trainSeconds": round(time.time() - began, 2),
    }, f)
print(f"{device}: loss {initial:.3f} -> {final:.3f} over {steps - start_step} steps (resumed from {start_step})")
