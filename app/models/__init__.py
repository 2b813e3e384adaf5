"""Tables, enums and API schemas."""

from app.models.enums import CandidateStatus, KeyScope, Qualifier, Scope
from app.models.tables import (
    ApiKey,
    AuditLog,
    Candidate,
    DatabaseEpoch,
    DataVersion,
    IdempotencyRecord,
    Metric,
    Operation,
    OperationAlias,
    OperationSource,
    OperationStatus,
    Phase,
    PhaseSource,
    Result,
    Source,
    Unit,
)

__all__ = [
    "ApiKey",
    "AuditLog",
    "Candidate",
    "CandidateStatus",
    "DataVersion",
    "DatabaseEpoch",
    "IdempotencyRecord",
    "KeyScope",
    "Metric",
    "Operation",
    "OperationAlias",
    "OperationSource",
    "OperationStatus",
    "Phase",
    "PhaseSource",
    "Qualifier",
    "Result",
    "Scope",
    "Source",
    "Unit",
]
