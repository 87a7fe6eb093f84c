"""The whole data flow as tables, from source video to checkpoint release.

Every table that a stage writes has a natural key under a unique constraint, so a re-run finds the row it
wrote before instead of adding another. Status columns let a crashed run be resumed: anything not `done` is
work still to do.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON, datetime: DateTime(timezone=True)}


class Status:
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Video(Base):
    """A source: a video file or a synthetic scene. `source_key` is its identity (file bytes or scene spec)."""

    __tablename__ = "videos"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_key: Mapped[str] = mapped_column(String(128), unique=True)
    source_uri: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))  # file | synthetic | imported (another benchmark's items)
    status: Mapped[str] = mapped_column(String(16), default=Status.PENDING)
    error: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str | None] = mapped_column(String(64))  # sha256 of the stored video file
    num_frames: Mapped[int | None]
    fps: Mapped[float | None] = mapped_column(Float)
    width: Mapped[int | None]
    height: Mapped[int | None]
    duration_s: Mapped[float | None] = mapped_column(Float)
    codec: Mapped[str | None] = mapped_column(String(32))
    video_artifact: Mapped[str | None] = mapped_column(String(128))
    timestamps_artifact: Mapped[str | None] = mapped_column(String(128))
    scene_spec: Mapped[dict[str, Any] | None]  # synthetic scenes: the spec they were rendered from
    truth_artifact: Mapped[str | None] = mapped_column(String(128))  # synthetic scenes: exact ground truth
    compute_seconds: Mapped[float | None] = mapped_column(Float)  # time inside rendering / decoding
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    clips: Mapped[list[Clip]] = relationship(back_populates="video", cascade="all, delete-orphan")


class Clip(Base):
    """Frames sampled from a video at known timestamps; the unit every later stage works on."""

    __tablename__ = "clips"
    __table_args__ = (UniqueConstraint("video_id", "clip_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    video_id: Mapped[int] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"))
    clip_key: Mapped[str] = mapped_column(String(64))  # sampling parameters, e.g. "f0-40@10.0fps"
    frame_indices: Mapped[list[Any]]
    timestamps: Mapped[list[Any]]  # seconds from the video start, one per frame index
    start_s: Mapped[float] = mapped_column(Float)
    end_s: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    video: Mapped[Video] = relationship(back_populates="clips")
    expert_runs: Mapped[list[ExpertRun]] = relationship(back_populates="clip", cascade="all, delete-orphan")


class ExpertRun(Base):
    """One expert backend over one clip. Keyed by its configuration so a re-run with the same one is skipped."""

    __tablename__ = "expert_runs"
    __table_args__ = (UniqueConstraint("clip_id", "kind", "run_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clip_id: Mapped[int] = mapped_column(ForeignKey("clips.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # segmenter | tracker | depth
    backend: Mapped[str] = mapped_column(String(64))
    config: Mapped[dict[str, Any]]
    run_key: Mapped[str] = mapped_column(String(64))  # sha256 of backend, config and upstream runs
    weights_hash: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=Status.PENDING)
    error: Mapped[str | None] = mapped_column(Text)
    output_artifact: Mapped[str | None] = mapped_column(String(128))
    compute_seconds: Mapped[float | None] = mapped_column(Float)  # time inside the expert itself
    attempts: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    clip: Mapped[Clip] = relationship(back_populates="expert_runs")


class Region(Base):
    """A region proposed by a segmentation run on a clip's first frame, or on the frame where it first comes into
    view (`first_frame`); `mark` is its Set-of-Marks number."""

    __tablename__ = "regions"
    __table_args__ = (UniqueConstraint("segmentation_run_id", "mark"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    segmentation_run_id: Mapped[int] = mapped_column(ForeignKey("expert_runs.id", ondelete="CASCADE"))
    clip_id: Mapped[int] = mapped_column(ForeignKey("clips.id", ondelete="CASCADE"))
    mark: Mapped[int]
    label: Mapped[str | None] = mapped_column(String(64))
    bbox: Mapped[list[Any]]  # x0, y0, x1, y1 on frame `first_frame`
    area: Mapped[int]
    score: Mapped[float] = mapped_column(Float, default=1.0)
    first_frame: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class QuestionItem(Base):
    """A multiple-choice question about regions of a clip, from generation through human review."""

    __tablename__ = "question_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_key: Mapped[str] = mapped_column(String(64), unique=True)  # content hash of clip, regions, question
    clip_id: Mapped[int] = mapped_column(ForeignKey("clips.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(8))  # VG DM SR T R C FP SA DP
    template: Mapped[str] = mapped_column(String(64))
    question: Mapped[str] = mapped_column(Text)
    options: Mapped[list[Any]]
    answer_index: Mapped[int]  # the machine's answer
    region_ids: Mapped[list[Any]]
    som_image_artifact: Mapped[str | None] = mapped_column(String(128))
    margin: Mapped[float | None] = mapped_column(Float)
    provenance: Mapped[dict[str, Any]]  # expert runs, facts and thresholds behind the item
    review_status: Mapped[str] = mapped_column(String(16), default="candidate")
    final_answer_index: Mapped[int | None]  # after review; differs from answer_index when corrected
    ls_project_id: Mapped[int | None]
    ls_task_id: Mapped[int | None] = mapped_column(unique=True)
    ls_adjudication_task_id: Mapped[int | None] = mapped_column(unique=True)  # set once reviewers disagreed
    agreement: Mapped[float | None] = mapped_column(Float)  # pairwise agreement of its reviewers
    reviewed_at: Mapped[datetime | None]  # when the review policy last settled it
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Annotation(Base):
    """One reviewer's verdict on one item, as Label Studio reported it (webhook or pull).

    Deleted verdicts are kept with `deleted` set, so the history of an item is never lost.
    """

    __tablename__ = "annotations"

    id: Mapped[int] = mapped_column(primary_key=True)
    ls_annotation_id: Mapped[int] = mapped_column(unique=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("question_items.id", ondelete="CASCADE"))
    ls_task_id: Mapped[int | None]
    adjudication: Mapped[bool] = mapped_column(default=False)  # from the adjudication queue: decides alone
    annotator_id: Mapped[int | None]  # the Label Studio user id
    annotator: Mapped[str] = mapped_column(String(255))
    verdict: Mapped[str] = mapped_column(String(32))
    chosen_index: Mapped[int | None]
    comment: Mapped[str | None] = mapped_column(Text)
    lead_time_s: Mapped[float | None] = mapped_column(Float)
    deleted: Mapped[bool] = mapped_column(default=False)
    raw: Mapped[dict[str, Any]]
    source: Mapped[str | None] = mapped_column(String(16))  # webhook | pull: which path wrote it last
    ls_created_at: Mapped[datetime | None]  # Label Studio's own timestamps of the verdict
    ls_updated_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReviewSync(Base):
    """Where the last `review pull` of a Label Studio project got to (the next one reads what changed since)."""

    __tablename__ = "review_sync"

    id: Mapped[int] = mapped_column(primary_key=True)
    ls_project_id: Mapped[int] = mapped_column(unique=True)
    pulled_until: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ReviewProject(Base):
    """The review policy of a Label Studio project, recorded when push creates the project; serve, pull and
    status decide its items by it. Only `r4d review policy` changes it (and then re-decides every item)."""

    __tablename__ = "review_projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    ls_project_id: Mapped[int] = mapped_column(unique=True)
    title: Mapped[str] = mapped_column(String(255))
    overlap: Mapped[int]  # reviewers per item before it can be settled
    agreement: Mapped[float] = mapped_column(Float)  # share of them that must agree, else adjudication
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Release(Base):
    """An immutable, checksummed export: a benchmark version or a checkpoint version."""

    __tablename__ = "releases"
    __table_args__ = (UniqueConstraint("kind", "name", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # benchmark | checkpoint
    name: Mapped[str] = mapped_column(String(128))
    version: Mapped[str] = mapped_column(String(32))
    selection: Mapped[dict[str, Any]]
    manifest_sha256: Mapped[str | None] = mapped_column(String(64))
    uri: Mapped[str | None] = mapped_column(Text)
    num_items: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReleaseItem(Base):
    __tablename__ = "release_items"
    __table_args__ = (UniqueConstraint("release_id", "item_id"), UniqueConstraint("release_id", "position"))

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("question_items.id"))
    position: Mapped[int]


class TrainingRun(Base):
    """A P4D training run over a benchmark release, keyed by its configuration."""

    __tablename__ = "training_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_key: Mapped[str] = mapped_column(String(64), unique=True)
    config: Mapped[dict[str, Any]]
    dataset_release_id: Mapped[int | None] = mapped_column(ForeignKey("releases.id"))
    status: Mapped[str] = mapped_column(String(16), default=Status.PENDING)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class Checkpoint(Base):
    """A saved model state of a training run; `release_id` once exported as a checkpoint release."""

    __tablename__ = "checkpoints"
    __table_args__ = (UniqueConstraint("training_run_id", "step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    training_run_id: Mapped[int] = mapped_column(ForeignKey("training_runs.id", ondelete="CASCADE"))
    step: Mapped[int]
    uri: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    release_id: Mapped[int | None] = mapped_column(ForeignKey("releases.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WorkClaim(Base):
    """A unit of work in flight (a render, an expert run, a clip's items): who does it and until when.

    Inserted before the work starts and deleted when it ends, so concurrent processes never do the same unit
    twice; the holder renews `expires_at` while it works, so a crashed holder's unit is taken over after it.
    """

    __tablename__ = "work_claims"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    owner: Mapped[str] = mapped_column(String(255))  # host:pid:token of the claiming process
    expires_at: Mapped[float] = mapped_column(Float)  # Unix time; renewed while the owner lives


class Evaluation(Base):
    """A model scored on a benchmark (a release, or an R4D-Bench JSON): R4D-Bench's 12 columns in `metrics`.

    `eval_key` hashes what decides the answers (benchmark content, model, weights, prompt/frames settings), so a
    re-run finds its row and its stored answers instead of asking the model again.
    """

    __tablename__ = "evaluations"
    __table_args__ = (UniqueConstraint("checkpoint_id", "benchmark_release_id", "config_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    checkpoint_id: Mapped[int | None] = mapped_column(ForeignKey("checkpoints.id", ondelete="CASCADE"))
    benchmark_release_id: Mapped[int | None] = mapped_column(ForeignKey("releases.id"))
    config_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=Status.PENDING)
    metrics: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    eval_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    benchmark: Mapped[str | None] = mapped_column(Text)  # what was scored: a release path or a JSON file
    benchmark_sha256: Mapped[str | None] = mapped_column(String(64))  # MANIFEST sha256, or the JSON file's
    model: Mapped[str | None] = mapped_column(String(64))  # the answerer's registry name
    weights: Mapped[str | None] = mapped_column(Text)  # as given: a directory or hub id
    weights_hash: Mapped[str | None] = mapped_column(String(64))
    settings: Mapped[dict[str, Any] | None]  # frames, prompt version, generation settings
    results_uri: Mapped[str | None] = mapped_column(Text)  # folder with results.json, answers.jsonl, plot.png
    finished_at: Mapped[datetime | None]


class EvaluationAnswer(Base):
    """One item's answer in an evaluation: what the model said, the letter read from it, and whether it is right.
    `error` holds why an item could not be asked (e.g. an unreadable video); such an item counts as wrong."""

    __tablename__ = "evaluation_answers"
    __table_args__ = (UniqueConstraint("evaluation_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id", ondelete="CASCADE"))
    item_id: Mapped[str] = mapped_column(String(256))  # the record's `id`
    category: Mapped[str] = mapped_column(String(8))
    raw_text: Mapped[str] = mapped_column(Text)
    letter: Mapped[str | None] = mapped_column(String(2))
    answer_letter: Mapped[str] = mapped_column(String(2))
    correct: Mapped[bool]
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
