"""What a task hands the trainer and the scorer: n independent datasets, one per seed."""
from dataclasses import dataclass

from torch import Tensor


@dataclass(frozen=True)
class TaskData:
    """n datasets stacked on the first dim.

    train_x [n, P, d], train_y [n, P]: inputs and loss targets; train_labels [n, P]: the classes
    train accuracy is scored against. test_x [n, Q, d] with ``test_labels`` {metric name: [n, Q]}:
    one accuracy per entry on the same test inputs. probe_x [R, d] (shared) or [n, R, d]: the
    inputs, in a fixed order, on which a function's complexity (LZ) is measured.
    """

    train_x: Tensor
    train_y: Tensor
    train_labels: Tensor
    test_x: Tensor
    test_labels: dict[str, Tensor]
    probe_x: Tensor
