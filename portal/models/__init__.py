"""Models split by aggregate; importing this package registers every table with the metadata."""
from portal.models.audit import AuditEvent
from portal.models.background import ACTIVE_JOB_STATES, JobStatus, RefreshJob, SyncRun
from portal.models.company import ERP_SYSTEMS, SYNC_SCHEDULES, Company, CostType, StandardCostCode
from portal.models.erp_connection import ErpConnection
from portal.models.erp_difference import (
    DIFFERENCE_KINDS,
    DifferenceKind,
    ErpComparison,
    ErpDifference,
    ErpJobCode,
    ErpJobRead,
)
from portal.models.erp_job import Commitment, CommitmentStatus, ErpJob
from portal.models.levels import CompanyTool, Level, utcnow
from portal.models.mail import APPROVAL_MAIL_CHOICES, MAIL_KINDS, MAIL_STATES, OutgoingMail
from portal.models.portal_state import LAST_BACKUP, WORKER_HEARTBEAT, PortalMark
from portal.models.project import AssignmentErpState, CostTypeAssignment, Project, ProjectCostCode
from portal.models.update_request import (
    OPEN_REQUEST_STATES,
    REQUEST_STATES,
    TO_EXPORT_REQUEST_STATES,
    CostCodeUpdateRequest,
    LineExportState,
    RequestStatus,
    UpdateRequestLine,
)
from portal.models.user import LoginSession, ProjectPermission, User

__all__ = [
    "ACTIVE_JOB_STATES",
    "DIFFERENCE_KINDS",
    "DifferenceKind",
    "ErpComparison",
    "ErpDifference",
    "ErpJobCode",
    "ErpJobRead",
    "APPROVAL_MAIL_CHOICES",
    "MAIL_KINDS",
    "MAIL_STATES",
    "ERP_SYSTEMS",
    "LAST_BACKUP",
    "OPEN_REQUEST_STATES",
    "REQUEST_STATES",
    "TO_EXPORT_REQUEST_STATES",
    "AssignmentErpState",
    "CommitmentStatus",
    "JobStatus",
    "LineExportState",
    "RequestStatus",
    "SYNC_SCHEDULES",
    "AuditEvent",
    "Commitment",
    "Company",
    "CompanyTool",
    "CostCodeUpdateRequest",
    "CostType",
    "CostTypeAssignment",
    "ErpConnection",
    "ErpJob",
    "Level",
    "LoginSession",
    "OutgoingMail",
    "PortalMark",
    "Project",
    "ProjectCostCode",
    "ProjectPermission",
    "RefreshJob",
    "StandardCostCode",
    "SyncRun",
    "UpdateRequestLine",
    "User",
    "WORKER_HEARTBEAT",
    "utcnow",
]
