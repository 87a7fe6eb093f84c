"""L4P (the paper's teacher: VideoMAEv2 encoder + DPT heads, 16 frames at 224 px) behind the Teacher interface.

L4P is not on PyPI and its weights cannot be downloaded here: users who have installed it (its `l4p` package
and a checkpoint) get it; everyone else gets a clear error, never another teacher in its place.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from model.teachers.base import Teacher, TeacherUnavailable

INSTALL = "install L4P (github.com/nv-dvl/l4p) so that `import l4p` works, and pass its checkpoint as the weights"


class L4PTeacher(Teacher):
    latent_dim = 1024
    num_layers = 24
    head_layer = 23
    num_frames = 16
    image_size = 224

    def __init__(self, weights: str | Path | None):
        super().__init__()
        if importlib.util.find_spec("l4p") is None:
            raise TeacherUnavailable(f"the l4p teacher needs the L4P package, which is not installed: {INSTALL}")
        if weights is None or not Path(weights).exists():
            raise TeacherUnavailable(f"the l4p teacher needs its checkpoint (got {weights!r}): {INSTALL}")
        raise TeacherUnavailable(
            "L4P is installed but this adapter has not been validated against it; "
            "its encoder/head API must be wired here before use"
        )

    def grid(self):
        return (self.num_frames // 2, self.image_size // 16, self.image_size // 16)

    def encode(self, frames):
        raise NotImplementedError

    def decode(self, latents):
        raise NotImplementedError
