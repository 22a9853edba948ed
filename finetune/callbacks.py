"""Trainer callbacks of the recipe: the metrics JSONL (written while training, so the UI can plot
it live), a progress bar with the loss on stderr, and a graceful stop (Ctrl-C or a step limit)
that checkpoints first; plus the SIGINT handler that drives that stop.

transformers' ``TrainerCallback`` is the hook both the Trainer and TRL's SFTTrainer call.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from pathlib import Path

from transformers import TrainerCallback


class MetricsWriter(TrainerCallback):
    """Appends one JSON row per log event to metrics.jsonl (flushed, so the UI can plot live)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.started = time.time()

    def on_train_begin(self, args, state, control, **kwargs):
        if state.is_world_process_zero and self.path.is_file():  # resuming: drop rows logged after the checkpoint we resume from
            keep = [l for l in self.path.read_text().splitlines() if l.strip() and json.loads(l).get("step", 0) <= state.global_step]
            self.path.write_text("".join(l + "\n" for l in keep))

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not logs or not state.is_world_process_zero:
            return
        row = {"step": state.global_step, "epoch": round(state.epoch or 0.0, 4), "time": round(time.time(), 3)}
        row.update({k: v for k, v in logs.items() if isinstance(v, (int, float))})
        with open(self.path, "a") as f:
            f.write(json.dumps(row) + "\n")


class Progress(TrainerCallback):
    """A tqdm bar on stderr with the latest loss; plain lines when stderr is not a terminal."""

    def __init__(self, enabled: bool) -> None:
        self.enabled, self.bar, self.last = enabled, None, {}

    def on_train_begin(self, args, state, control, **kwargs):
        if not state.is_world_process_zero:
            return
        from tqdm import tqdm

        self.bar = tqdm(total=state.max_steps, initial=state.global_step, desc="finetune", unit="step",
                        file=sys.stderr, disable=not self.enabled, dynamic_ncols=True)

    def on_step_end(self, args, state, control, **kwargs):
        if self.bar is not None:
            self.bar.update(state.global_step - self.bar.n)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if self.bar is None or not logs:
            return
        for key in ("loss", "eval_loss"):
            if key in logs:
                self.last[key] = f"{logs[key]:.3f}"
        if self.enabled:
            self.bar.set_postfix(self.last, refresh=True)
        elif "eval_loss" in logs or ("loss" in logs and state.global_step % max(1, state.max_steps // 10) == 0):
            print(f"ragft finetune: step {state.global_step}/{state.max_steps} epoch {state.epoch or 0:.2f} "
                  + " ".join(f"{k} {v}" for k, v in self.last.items()), file=sys.stderr, flush=True)

    def on_train_end(self, args, state, control, **kwargs):
        if self.bar is not None:
            self.bar.close()


class Stopper(TrainerCallback):
    """Stops at the end of the current step and saves a checkpoint (Ctrl-C, or a step limit in tests);
    also adds a checkpoint every ``save_steps`` on top of the per-epoch ones."""

    def __init__(self, save_steps: int, stop_after: int | None) -> None:
        self.save_steps, self.stop_after = save_steps, stop_after
        self.requested = threading.Event()

    def on_step_end(self, args, state, control, **kwargs):
        if self.stop_after is not None and state.global_step >= self.stop_after:
            self.requested.set()
        if state.global_step % self.save_steps == 0:
            control.should_save = True
        if self.requested.is_set():
            control.should_training_stop = True
            # Mid-epoch: checkpoint now. At an epoch's end, the epoch's eval runs first and the
            # per-epoch save follows it, so the checkpoint knows that eval (early stopping state).
            if not epoch_boundary(state):
                control.should_save = True
        return control

    def on_epoch_end(self, args, state, control, **kwargs):
        if self.requested.is_set() and not epoch_boundary(state):
            # The loop left a half epoch: no eval on it, and the checkpoint is already written.
            control.should_evaluate = False
            control.should_save = False
        return control


def epoch_boundary(state) -> bool:
    return abs((state.epoch or 0.0) - round(state.epoch or 0.0)) < 1e-6


def install_sigint(flag: threading.Event):
    """First Ctrl-C: finish the step, save a checkpoint, stop. Second Ctrl-C: abort."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def handler(signum, frame):
        if flag.is_set():
            raise KeyboardInterrupt
        flag.set()
        print("\nragft finetune: stopping after this step and saving a checkpoint (Ctrl-C again to abort)", file=sys.stderr, flush=True)

    return signal.signal(signal.SIGINT, handler)


def restore_sigint(previous) -> None:
    if previous is not None:
        signal.signal(signal.SIGINT, previous)
