"""Operations: the four standing operations, by slug or any alias."""

from fastapi import APIRouter

from app.api.deps import OperationDep, SessionDep
from app.models.schemas import OperationPublic, Page, PhasePublic
from app.services.operations import list_operations, list_phases, operation_public

router = APIRouter(prefix="/operations", tags=["operations"])


@router.get("", summary="List the operations")
def get_operations(session: SessionDep) -> Page[OperationPublic]:
    """Every operation with aliases, status history and sources."""
    items = list_operations(session=session)
    return Page(items=items, next_cursor=None, total=len(items))


@router.get("/{key}", summary="One operation by slug or alias")
def get_operation(session: SessionDep, operation: OperationDep) -> OperationPublic:
    """`/operations/Kanal` answers the `channel` operation."""
    return operation_public(session=session, op=operation)


@router.get("/{key}/phases", summary="The phases of one operation")
def get_operation_phases(session: SessionDep, operation: OperationDep) -> Page[PhasePublic]:
    """Phases in date order (undated last)."""
    items = list_phases(session=session, operation=operation.slug)
    return Page(items=items, next_cursor=None, total=len(items))
