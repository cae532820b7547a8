"""Designs, their versions and runs in a SQL database through SQLAlchemy (SQLite by default,
PostgreSQL for a shared team server). Specs are stored as the user's text, results as JSON."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, create_engine, event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    mapped_column,
    relationship,
    sessionmaker,
)
from sqlalchemy.pool import StaticPool

ACTIVE = ("queued", "running")


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _new_id() -> str:
    return uuid.uuid4().hex


class Base(DeclarativeBase):
    pass


class Design(Base):
    __tablename__ = "designs"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=_new_id)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=_now)
    updated_at: Mapped[datetime] = mapped_column(default=_now)
    versions: Mapped[list[Version]] = relationship(
        back_populates="design", cascade="all, delete-orphan", order_by="Version.number")


class Version(Base):
    __tablename__ = "versions"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    design_id: Mapped[str] = mapped_column(ForeignKey("designs.id", ondelete="CASCADE"),
                                           index=True)
    number: Mapped[int]
    spec: Mapped[str] = mapped_column(Text)
    layout: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(default=_now)
    design: Mapped[Design] = relationship(back_populates="versions")


class Run(Base):
    __tablename__ = "runs"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=_new_id)
    design_id: Mapped[str | None] = mapped_column(
        ForeignKey("designs.id", ondelete="SET NULL"), index=True, nullable=True)
    version: Mapped[int | None] = mapped_column(nullable=True)
    system: Mapped[str] = mapped_column(String(200))
    spec: Mapped[str] = mapped_column(Text)
    seed: Mapped[int | None] = mapped_column(nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    summary: Mapped[str | None] = mapped_column(Text, nullable=True)
    result: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=_now)
    finished_at: Mapped[datetime | None] = mapped_column(nullable=True)


def _stamp(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat(timespec="seconds") + "Z"


def summary_of(result: dict[str, Any]) -> dict[str, Any]:
    """The few numbers a list of runs shows."""
    slo = result.get("slo")
    return {"p50_ms": result["latency_ms"].get("p50"), "p99_ms": result["latency_ms"].get("p99"),
            "throughput_rps": result.get("throughput_rps"),
            "error_rate": result.get("error_rate"),
            "slo_met": None if slo is None else slo["met"]}


class Store:
    """The one place that talks SQL. Methods return plain dicts for the routes."""

    def __init__(self, url: str) -> None:
        memory = url in ("sqlite://", "sqlite:///:memory:")
        options: dict[str, Any] = {}
        if url.startswith("sqlite"):
            options["connect_args"] = {"check_same_thread": False}
            if memory:
                options["poolclass"] = StaticPool
        self.engine: Engine = create_engine(url, **options)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        Base.metadata.create_all(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._interrupted()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    def _interrupted(self) -> None:
        """Runs left queued or running by a server that stopped will never finish."""
        with self.session() as s:
            for run in s.scalars(select(Run).where(Run.status.in_(ACTIVE))):
                run.status, run.error = "failed", "interrupted: the studio server stopped"
                run.finished_at = _now()

    # -- designs -------------------------------------------------------------------------------
    def list_designs(self) -> list[dict[str, Any]]:
        with self.session() as s:
            versions = dict(s.execute(select(Version.design_id, func.count())
                                      .group_by(Version.design_id)).all())
            runs = dict(s.execute(select(Run.design_id, func.count())
                                  .group_by(Run.design_id)).all())
            designs = s.scalars(select(Design).order_by(Design.updated_at.desc())).all()
            return [{**_design_brief(d), "versions": versions.get(d.id, 0),
                     "runs": runs.get(d.id, 0)} for d in designs]

    def create_design(self, name: str, spec: str, layout: dict[str, Any]) -> dict[str, Any]:
        with self.session() as s:
            design = Design(name=name)
            design.versions.append(Version(number=1, spec=spec, layout=json.dumps(layout)))
            s.add(design)
            s.flush()
            return self._design(s, design)

    def get_design(self, design_id: str) -> dict[str, Any] | None:
        with self.session() as s:
            design = s.get(Design, design_id)
            return None if design is None else self._design(s, design)

    def update_design(self, design_id: str, name: str | None, spec: str | None,
                      layout: dict[str, Any] | None) -> dict[str, Any] | None:
        """Rename, and add a version when the spec or the layout changed."""
        with self.session() as s:
            design = s.get(Design, design_id)
            if design is None:
                return None
            if name is not None:
                design.name = name
            latest = design.versions[-1]
            new_spec = latest.spec if spec is None else spec
            new_layout = latest.layout if layout is None else json.dumps(layout)
            if (new_spec, new_layout) != (latest.spec, latest.layout):
                design.versions.append(Version(number=latest.number + 1, spec=new_spec,
                                               layout=new_layout))
            design.updated_at = _now()
            s.flush()
            return self._design(s, design)

    def delete_design(self, design_id: str) -> bool:
        with self.session() as s:
            design = s.get(Design, design_id)
            if design is None:
                return False
            for run in s.scalars(select(Run).where(Run.design_id == design_id)):
                run.design_id = None
            s.delete(design)
            return True

    def duplicate_design(self, design_id: str) -> dict[str, Any] | None:
        with self.session() as s:
            design = s.get(Design, design_id)
            if design is None:
                return None
            latest = design.versions[-1]
            copy = Design(name=f"{design.name} (copy)"[:200])
            copy.versions.append(Version(number=1, spec=latest.spec, layout=latest.layout))
            s.add(copy)
            s.flush()
            return self._design(s, copy)

    def get_version(self, design_id: str, number: int) -> dict[str, Any] | None:
        with self.session() as s:
            version = s.scalars(select(Version).where(Version.design_id == design_id,
                                                      Version.number == number)).first()
            return None if version is None else _version(version, with_text=True)

    def _design(self, s: Session, design: Design) -> dict[str, Any]:
        latest = design.versions[-1]
        runs = dict(s.execute(select(Run.version, func.count()).where(Run.design_id == design.id)
                              .group_by(Run.version)).all())
        return {**_design_brief(design), "spec": latest.spec, "layout": json.loads(latest.layout),
                "version": latest.number,
                "versions": [{**_version(v), "runs": runs.get(v.number, 0)}
                             for v in design.versions]}

    # -- runs ----------------------------------------------------------------------------------
    def create_run(self, system: str, spec: str, seed: int | None, design_id: str | None,
                   version: int | None) -> str:
        with self.session() as s:
            run = Run(system=system, spec=spec, seed=seed, design_id=design_id, version=version)
            s.add(run)
            s.flush()
            return run.id

    def design_exists(self, design_id: str) -> bool:
        with self.session() as s:
            return s.get(Design, design_id) is not None

    def set_status(self, run_id: str, status: str) -> None:
        with self.session() as s:
            run = s.get(Run, run_id)
            if run is not None:
                run.status = status

    def finish_run(self, run_id: str, status: str, result: dict[str, Any] | None,
                   error: str | None) -> None:
        with self.session() as s:
            run = s.get(Run, run_id)
            if run is None:
                return
            run.status, run.error, run.finished_at = status, error, _now()
            if result is not None:
                run.result = json.dumps(result, sort_keys=True)
                run.summary = json.dumps(summary_of(result))

    def get_run(self, run_id: str, with_result: bool = True) -> dict[str, Any] | None:
        with self.session() as s:
            run = s.get(Run, run_id)
            if run is None:
                return None
            out = _run_brief(run)
            out["spec"] = run.spec
            if with_result and run.result is not None:
                out["result"] = json.loads(run.result)
            return out

    def list_runs(self, design_id: str | None, limit: int) -> list[dict[str, Any]]:
        with self.session() as s:
            query = select(Run).order_by(Run.created_at.desc()).limit(limit)
            if design_id is not None:
                query = query.where(Run.design_id == design_id)
            return [_run_brief(run) for run in s.scalars(query)]


def _sqlite_pragmas(connection: Any, _: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _design_brief(design: Design) -> dict[str, Any]:
    return {"id": design.id, "name": design.name, "created_at": _stamp(design.created_at),
            "updated_at": _stamp(design.updated_at)}


def _version(version: Version, with_text: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"number": version.number, "created_at": _stamp(version.created_at)}
    if with_text:
        out["spec"] = version.spec
        out["layout"] = json.loads(version.layout)
    return out


def _run_brief(run: Run) -> dict[str, Any]:
    return {"id": run.id, "system": run.system, "status": run.status, "seed": run.seed,
            "design_id": run.design_id, "version": run.version, "error": run.error,
            "summary": None if run.summary is None else json.loads(run.summary),
            "created_at": _stamp(run.created_at), "finished_at": _stamp(run.finished_at)}
