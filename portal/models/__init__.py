"""Models split by aggregate; importing this package registers every table with the metadata."""
from portal.models.audit import AuditEvent
from portal.models.background import RefreshJob, SyncRun
from portal.models.company import ERP_SYSTEMS, SYNC_SCHEDULES, Company, CostType, StandardCostCode
from portal.models.erp_job import Commitment, ErpJob
from portal.models.levels import CompanyTool, Level, utcnow
from portal.models.project import CostTypeAssignment, Project, ProjectCostCode
from portal.models.update_request import CostCodeUpdateRequest, UpdateRequestLine
from portal.models.user import LoginSession, ProjectPermission, User

__all__ = [
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
    "LoginSession",
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
