"""Frozen 4D experts that P4D distils from: per-layer latents for a clip, and heads decoding latents to 4D."""

from model.teachers.base import SIGNALS, Teacher, TeacherUnavailable, load_teacher

__all__ = ["SIGNALS", "Teacher", "TeacherUnavailable", "load_teacher"]
