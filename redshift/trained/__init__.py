"""Trained-model experiments (Neural Redshift §4): modulo addition and shortcut learning
on digits with a colour band, trained with the batched trainer (redshift.training)."""
from redshift.trained.datasets import TaskData
from redshift.trained.digits import ShortcutTask
from redshift.trained.experiment import TASKS, TrainedSpec, output_lz, run
from redshift.trained.modulo import ModuloTask

__all__ = ["TASKS", "ModuloTask", "ShortcutTask", "TaskData", "TrainedSpec", "output_lz", "run"]
