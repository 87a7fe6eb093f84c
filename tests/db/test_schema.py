"""The migrations build exactly the models' schema, on SQLite and PostgreSQL, and its keys refuse duplicates."""

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

import db
from db.models import Base, Clip, ExpertRun, Video
from db.session import alembic_config


def test_migrations_match_models(database_url):
    db.upgrade(database_url)
    with db.connect(database_url).connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata)
    assert diff == []
    tables = set(inspect(db.connect(database_url)).get_table_names())
    assert {
        "videos",
        "clips",
        "expert_runs",
        "regions",
        "question_items",
        "annotations",
        "releases",
        "release_items",
        "training_runs",
        "checkpoints",
        "evaluations",
    } <= tables


def test_upgrade_is_idempotent_and_reversible(database_url):
    db.upgrade(database_url)
    db.upgrade(database_url)  # second upgrade: nothing to do, no error
    command.downgrade(alembic_config(database_url), "base")
    assert set(inspect(db.connect(database_url)).get_table_names()) <= {"alembic_version"}
    db.upgrade(database_url)
    assert "videos" in inspect(db.connect(database_url)).get_table_names()


def test_natural_keys_refuse_duplicates(database_url):
    db.upgrade(database_url)
    with db.session_scope(database_url) as session:
        video = Video(source_key="file:abc", source_uri="/x.mp4", kind="file")
        session.add(video)
        session.flush()
        clip = Clip(
            video_id=video.id, clip_key="f0-10@all", frame_indices=[0, 1], timestamps=[0, 0.1], start_s=0, end_s=0.1
        )
        session.add(clip)
        session.flush()
        session.add(ExpertRun(clip_id=clip.id, kind="depth", backend="oracle", config={}, run_key="k"))
    for duplicate in (
        lambda s: Video(source_key="file:abc", source_uri="/y.mp4", kind="file"),
        lambda s: Clip(
            video_id=s.scalar(select(Video.id)),
            clip_key="f0-10@all",
            frame_indices=[],
            timestamps=[],
            start_s=0,
            end_s=0,
        ),
        lambda s: ExpertRun(clip_id=s.scalar(select(Clip.id)), kind="depth", backend="oracle", config={}, run_key="k"),
    ):
        with pytest.raises(IntegrityError), db.session_scope(database_url) as session:
            session.add(duplicate(session))
