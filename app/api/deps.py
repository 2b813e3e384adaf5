"""Dependency aliases shared by the routers."""

from typing import Annotated

from fastapi import Depends, Path
from sqlmodel import Session

from app.db import get_session
from app.http.auth import require_scope
from app.http.problems import ProblemError
from app.models import ApiKey, KeyScope, Operation
from app.read.catalog import operation_slugs, resolve_operation

SessionDep = Annotated[Session, Depends(get_session)]


def get_operation(
    session: SessionDep,
    key: Annotated[
        str,
        Path(
            max_length=100,
            description="Operation slug or any alias, case-insensitive (channel, Kanal, Канал, PROXI, ...)",
            examples=["channel"],
        ),
    ],
) -> Operation:
    """Resolve an operation slug or alias, or answer the one not-found problem."""
    op = resolve_operation(session=session, key=key)
    if op is None:
        raise operation_not_found(session, key)
    return op


def operation_not_found(session: Session, key: str) -> ProblemError:
    """The 404 for an unknown operation, listing the valid slugs."""
    slugs = operation_slugs(session=session)
    return ProblemError(
        404,
        f"No operation {key!r}. Valid operations: {', '.join(slugs)} (or any of their aliases).",
        code="operation-not-found",
        valid_operations=slugs,
    )


OperationDep = Annotated[Operation, Depends(get_operation)]


# ---------------------------------------------------------------- writes: who is writing

CuratorDep = Annotated[ApiKey, Depends(require_scope(KeyScope.curator))]
AdminDep = Annotated[ApiKey, Depends(require_scope(KeyScope.admin))]
