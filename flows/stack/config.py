"""Where the stack's services listen and which PostgreSQL they keep their data in."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field


class StackConfig(BaseModel, extra="forbid"):
    """Ports on 127.0.0.1 and the PostgreSQL server of `r4d stack up`; the defaults are the usual ports."""

    prefect_port: int = Field(4200, ge=1, le=65535, description="Port of the Prefect server (API and UI).")
    label_studio_port: int = Field(8080, ge=1, le=65535, description="Port of Label Studio.")
    review_port: int = Field(8090, ge=1, le=65535, description="Port of the review service (webhooks, media).")
    postgres_admin: str = Field(
        "postgresql://postgres@127.0.0.1:5432/postgres",
        description="A PostgreSQL login that may create roles and databases (used when R4D_DATABASE_URL is unset).",
    )
    database: str = Field(
        "r4d",
        pattern=r"^[a-z_][a-z0-9_]{0,40}$",
        description="Role and database of the data; Prefect and Label Studio get <database>_prefect and "
        "<database>_labelstudio (with R4D_DATABASE_URL set: its database name and login).",
    )
    env_file: Path = Field(
        Path(".env"), description="Untracked file (mode 0600) the generated secrets and the stack's URLs go to."
    )
    timeout: float = Field(
        900, gt=0, description="Seconds `up` waits for all services to answer (Label Studio migrates on a first start)."
    )


class StackFile(BaseModel, extra="forbid"):
    """What `r4d stack status` reads: the env file `up` wrote."""

    env_file: Path = Field(Path(".env"), description="The env file `up` wrote.")
