"""Models split by aggregate; importing this package registers every table with the metadata."""
from portal.models.audit import AuditEvent
from portal.models.background import RefreshJob, SyncRun
from portal.models.company import ERP_SYSTEMS, SYNC_SCHEDULES, Company, CostType, StandardCostCode
from portal.models.erp_job import Commitment, ErpJob
from portal.models.levels import CompanyTool, Level, utcnow
from portal.models.mail import APPROVAL_MAIL_CHOICES, MAIL_KINDS, MAIL_STATES, OutgoingMail
from portal.models.project import CostTypeAssignment, Project, ProjectCostCode
from portal.models.update_request import CostCodeUpdateRequest, UpdateRequestLine
from portal.models.user import ProjectPermission, User

__all__ = [
    "APPROVAL_MAIL_CHOICES",
    "MAIL_KINDS",
    "MAIL_STATES",
    "ERP_SYSTEMS",
    "SYNC_SCHEDULES",
    "AuditEvent",
    "Commitment",
    "Company",
    "CompanyTool",
    "CostCodeUpdateRequest",
    "CostType",
    "CostTypeAssignment",
    "ErpJob",
    "Level",
    "OutgoingMail",
    "Project",
    "ProjectCostCode",
    "ProjectPermission",
    "RefreshJob",
    "StandardCostCode",
    "SyncRun",
    "UpdateRequestLine",
    "User",
    "utcnow",
]
