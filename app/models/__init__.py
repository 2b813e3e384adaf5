"""Tables, enums and API schemas."""

from app.models.enums import CandidateStatus, KeyScope, Qualifier, Scope
from app.models.tables import (
    ApiKey,
    AuditLog,
    Candidate,
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
    ResultRevision,
    Source,
    Unit,
)

__all__ = [
    "ApiKey",
    "AuditLog",
    "Candidate",
    "CandidateStatus",
    "DataVersion",
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
    "ResultRevision",
    "Scope",
    "Source",
    "Unit",
]
