"""Demo data: two companies, one per ERP system, so both help articles can be walked through."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import (
    AssignmentErpState,
    Commitment,
    Company,
    CostCodeUpdateRequest,
    CostType,
    CostTypeAssignment,
    Level,
    LineExportState,
    Project,
    ProjectCostCode,
    ProjectPermission,
    RequestStatus,
    StandardCostCode,
    UpdateRequestLine,
    User,
    utcnow,
)
from portal.passwords import hash_password
from portal.services import transaction
from portal.services.audit import record_event

DEMO_PASSWORD = "costcodes-demo"

# Fifteen divisions of ten codes: about 150 standard cost codes per company.
DIVISIONS: list[tuple[int, str, list[str]]] = [
    (1, "General Requirements", ["Project Management", "Supervision", "Temporary Facilities",
     "Temporary Utilities", "Permits and Fees", "Insurance", "Cleanup", "Safety", "Surveying",
     "Equipment Rental"]),
    (2, "Site Work", ["Demolition", "Clearing and Grubbing", "Excavation", "Backfill", "Grading",
     "Erosion Control", "Paving", "Curbs and Gutters", "Storm Drainage", "Landscaping"]),
    (3, "Concrete", ["Formwork", "Reinforcing Steel", "Footings", "Foundation Walls",
     "Slab on Grade", "Elevated Slabs", "Concrete Pumping", "Finishing", "Curing", "Precast"]),
    (4, "Masonry", ["Brick Veneer", "Concrete Block", "Stone Veneer", "Mortar and Grout",
     "Masonry Reinforcing", "Flashing", "Lintels", "Cleaning", "Scaffolding", "Glass Block"]),
    (5, "Metals", ["Structural Steel", "Steel Joists", "Metal Deck", "Miscellaneous Metals",
     "Stairs", "Handrails", "Ornamental Metals", "Steel Erection", "Welding", "Fasteners"]),
    (6, "Wood and Plastics", ["Rough Carpentry", "Framing Lumber", "Sheathing", "Trusses",
     "Finish Carpentry", "Millwork", "Cabinets", "Countertops", "Blocking", "Hardware"]),
    (7, "Thermal and Moisture", ["Waterproofing", "Dampproofing", "Insulation", "Vapor Barrier",
     "Roofing", "Sheet Metal", "Roof Accessories", "Sealants", "Fireproofing", "Siding"]),
    (8, "Doors and Windows", ["Hollow Metal Doors", "Wood Doors", "Overhead Doors", "Storefronts",
     "Windows", "Skylights", "Door Hardware", "Glazing", "Mirrors", "Access Doors"]),
    (9, "Finishes", ["Drywall", "Metal Studs", "Plaster", "Tile", "Acoustical Ceilings",
     "Wood Flooring", "Resilient Flooring", "Carpet", "Painting", "Wall Coverings"]),
    (10, "Specialties", ["Toilet Partitions", "Toilet Accessories", "Signage", "Lockers",
     "Fire Extinguishers", "Flagpoles", "Mailboxes", "Corner Guards", "Louvers", "Awnings"]),
    (11, "Equipment", ["Kitchen Equipment", "Laundry Equipment", "Loading Dock Equipment",
     "Appliances", "Projection Screens", "Athletic Equipment", "Waste Compactors",
     "Parking Equipment", "Lab Equipment", "Medical Equipment"]),
    (12, "Furnishings", ["Window Treatments", "Casework", "Furniture", "Rugs and Mats",
     "Seating", "Artwork", "Planters", "Site Furnishings", "Bike Racks", "Benches"]),
    (13, "Special Construction", ["Pre-engineered Buildings", "Clean Rooms", "Vaults",
     "Sound Control", "Radiation Protection", "Swimming Pools", "Greenhouses", "Canopies",
     "Fabric Structures", "Towers"]),
    (15, "Mechanical", ["Plumbing", "Plumbing Fixtures", "Fire Protection", "HVAC Equipment",
     "Ductwork", "Piping", "Insulation for Piping", "Controls", "Testing and Balancing",
     "Gas Piping"]),
    (16, "Electrical", ["Service and Distribution", "Lighting", "Branch Wiring", "Fire Alarm",
     "Low Voltage", "Data and Communications", "Security Systems", "Generators",
     "Grounding", "Site Lighting"]),
]

SAGE100_COST_TYPES = [("1", "Material"), ("2", "Labor"), ("3", "Equipment"), ("4", "Subcontract"),
                      ("5", "Other")]
SAGE300_CATEGORIES = [("LAB", "Labor"), ("MAT", "Material"), ("SUB", "Subcontract"),
                      ("EQP", "Equipment"), ("OTH", "Other")]

RIDGELINE_PROJECTS = [
    ("RB-2401", "Maple Street Medical Office", "2401"), ("RB-2402", "Cedar Ridge Elementary", "2402"),
    ("RB-2403", "Summit Logistics Warehouse", "2403"), ("RB-2404", "Riverside Apartments", "2404"),
    ("RB-2405", "Granite Falls Library", "2405"), ("RB-2406", "Oakmont Fire Station", "2406"),
    ("RB-2407", "Pinecrest Retail Center", "2407"), ("RB-2408", "Valley Water Treatment", "2408"),
]
HARBOR_POINT_PROJECTS = [
    ("HP-301", "Pier 9 Ferry Terminal", "23-0301"), ("HP-302", "Bayfront Hotel Renovation", "23-0302"),
    ("HP-303", "Harbor Point Marina Offices", "23-0303"), ("HP-304", "Lighthouse Park Pavilion", "23-0304"),
    ("HP-305", "Wharf Street Parking Garage", "23-0305"), ("HP-306", "Seaside Senior Living", "23-0306"),
]

# (local part, name, ERP Integrations, Company Admin, Can Push to Accounting, project Admin level)
ROLES = [
    ("admin", "Company Admin", Level.ADMIN, Level.ADMIN, True, Level.ADMIN),
    ("approver", "Accounting Approver", Level.STANDARD, Level.NONE, True, Level.NONE),
    ("accountant", "Staff Accountant", Level.STANDARD, Level.NONE, False, Level.NONE),
    ("viewer", "Read Only Viewer", Level.READ_ONLY, Level.NONE, False, Level.NONE),
    ("pm", "Project Manager", Level.NONE, Level.NONE, False, Level.ADMIN),
]

CODES_PER_PROJECT = 20


def sage100_code(division: int, item: int) -> str:
    return f"{division * 1000 + (item + 1) * 10}.000"


# Harbor Point's Sage 300 CRE cost code mask: a 2-character division section and a 3-character
# item section, as in 03-100 Formwork.
HARBOR_POINT_MASK = "99-999"


def sage300_code(division: int, item: int) -> str:
    # 100, 200, ... 900, then 950: every code fits the mask's 3-character second section.
    return f"{division:02d}-{min((item + 1) * 100, 950):03d}"


def _seed_company(session: Session, *, name: str, slug: str, domain: str, erp_system: str,
                  cost_types: list[tuple[str, str]], projects: list[tuple[str, str, str]],
                  password_hash: str) -> list[User]:
    sage100 = erp_system == "sage100c"
    company = Company(
        name=name, slug=slug, erp_system=erp_system, sync_schedule="1h",
        cost_code_format="Numeric, up to 6 digits and 3 decimals (2010.000)" if sage100
        else f"Mask {HARBOR_POINT_MASK} (03-100)",
        cost_code_mask=None if sage100 else HARBOR_POINT_MASK,
        requester_may_not_approve=True,
        standard_codes_changed_at=utcnow(),
    )
    session.add(company)
    session.flush()
    types = [CostType(company_id=company.id, code=code, name=label) for code, label in cost_types]
    session.add_all(types)

    standard_codes: list[StandardCostCode] = []
    for division, division_name, items in DIVISIONS:
        division_key = f"{division * 1000}" if sage100 else f"{division:02d}"
        for index, item in enumerate(items):
            code = sage100_code(division, index) if sage100 else sage300_code(division, index)
            standard_codes.append(StandardCostCode(
                company_id=company.id, code=code, description=item, division=division_key,
                division_name=division_name,
            ))
    # A retired code shows why archived codes cannot be added to a project.
    standard_codes[-1].archived = True
    session.add_all(standard_codes)
    session.flush()

    project_rows = []
    for number, project_name, job in projects:
        project = Project(
            company_id=company.id, number=number, name=project_name, erp_job_number=job,
            erp_link_state="linked", cost_codes_refreshed_at=utcnow(),
        )
        session.add(project)
        project_rows.append(project)
    session.flush()
    for offset, project in enumerate(project_rows):
        # Each project starts with a slice of the list, already exported to its ERP job.
        for standard in standard_codes[offset * 3: offset * 3 + CODES_PER_PROJECT]:
            cost_code = ProjectCostCode(
                project_id=project.id, standard_cost_code_id=standard.id, code=standard.code,
                description=standard.description, division=standard.division, origin="company",
            )
            cost_code.assignments.append(
                CostTypeAssignment(cost_type=types[offset % 2], erp_state=AssignmentErpState.EXPORTED)
            )
            session.add(cost_code)

    users = []
    for local, role_name, erp_level, admin_level, can_push, project_level in ROLES:
        user = User(
            company_id=company.id, email=f"{local}@{domain}", name=f"{role_name} ({name.split()[0]})",
            password_hash=password_hash, erp_integrations_level=erp_level,
            company_admin_level=admin_level, can_push_to_accounting=can_push,
        )
        session.add(user)
        session.flush()
        if project_level > Level.NONE:
            session.add_all(
                ProjectPermission(user_id=user.id, project_id=p.id, admin_level=project_level)
                for p in project_rows
            )
        users.append(user)
    record_event(
        session, company_id=company.id, actor=None, action="demo.seed", object_type="company",
        object_id=company.id, object_label=company.name,
        details={"standard_cost_codes": len(standard_codes), "projects": len(project_rows)},
    )
    return users


def seed_demo(session: Session, *, password_hash_method: str) -> list[User]:
    """Ridgeline Builders (Sage 100 Contractor) and Harbor Point Construction (Sage 300 CRE)."""
    # One hash shared by the demo accounts: a real hash is slow on purpose.
    password_hash = hash_password(DEMO_PASSWORD, password_hash_method)
    with transaction(session):
        users = _seed_company(
            session, name="Ridgeline Builders", slug="ridgeline", domain="ridgeline.test",
            erp_system="sage100c", cost_types=SAGE100_COST_TYPES, projects=RIDGELINE_PROJECTS,
            password_hash=password_hash,
        )
        users += _seed_company(
            session, name="Harbor Point Construction", slug="harbor-point",
            domain="harborpoint.test", erp_system="sage300cre", cost_types=SAGE300_CATEGORIES,
            projects=HARBOR_POINT_PROJECTS, password_hash=password_hash,
        )
        seed_approval_demo(session)
    return users


# --- Approver side: cost code update requests waiting in Ready to Update, and commitments. ---

REQUESTED_PROJECTS = (1, 2, 3)  # by project number order; the first project is left without one


def seed_approval_demo(session: Session) -> None:
    """Per company: three requests by the pm waiting for approval, and a few commitments.

    Each request asks for new codes (with their cost type) and for one code the ERP job already
    has to gain another cost type, so both kinds of line show in Cost Codes for Update. Like the
    rest of the demo data they are recorded by the "demo.seed" event, not as user actions.
    """
    for company in session.scalars(select(Company).order_by(Company.id)):
        pm = session.scalar(
            select(User).where(User.company_id == company.id, User.email.startswith("pm@"))
        )
        types = list(company.cost_types)
        projects = list(
            session.scalars(
                select(Project).where(Project.company_id == company.id).order_by(Project.number)
            )
        )
        standard_codes = list(
            session.scalars(
                select(StandardCostCode)
                .where(StandardCostCode.company_id == company.id, StandardCostCode.archived.is_(False))
                .order_by(StandardCostCode.id)  # list order: division by division
            )
        )
        for age, index in enumerate(REQUESTED_PROJECTS):
            _seed_update_request(
                session, company, projects[index], pm, types, standard_codes,
                new_codes=3 + age, requested_at=utcnow() - timedelta(hours=26 - 5 * age),
            )
        _seed_commitments(session, company, projects)


def _seed_update_request(session: Session, company: Company, project: Project, pm: User,
                         types: list[CostType], standard_codes: list[StandardCostCode], *,
                         new_codes: int, requested_at) -> None:  # noqa: ANN001
    request = CostCodeUpdateRequest(
        company_id=company.id, project_id=project.id, requested_by_id=pm.id,
        requested_at=requested_at, status=RequestStatus.REQUESTED,
    )
    session.add(request)
    have = {cost_code.code for cost_code in project.cost_codes}
    added = [standard for standard in standard_codes if standard.code not in have][:new_codes]
    pairs: list[tuple[ProjectCostCode, CostTypeAssignment, str]] = []
    for number, standard in enumerate(added):
        cost_code = ProjectCostCode(
            project_id=project.id, standard_cost_code_id=standard.id, code=standard.code,
            description=standard.description, division=standard.division, origin="company",
        )
        assignment = CostTypeAssignment(cost_type=types[number % 2], erp_state=AssignmentErpState.REQUESTED)
        cost_code.assignments.append(assignment)
        session.add(cost_code)
        pairs.append((cost_code, assignment, "new_code"))
    # A code already on the ERP job with one cost type gains another: both stay tied to it.
    existing = project.cost_codes[0]
    has = {assignment.cost_type_id for assignment in existing.assignments}
    other = next(cost_type for cost_type in reversed(types) if cost_type.id not in has)
    gained = CostTypeAssignment(cost_type=other, erp_state=AssignmentErpState.REQUESTED)
    existing.assignments.append(gained)
    pairs.append((existing, gained, "new_cost_type"))
    session.flush()
    for cost_code, assignment, change in pairs:
        session.add(UpdateRequestLine(
            request_id=request.id, project_cost_code_id=cost_code.id, assignment_id=assignment.id,
            code=cost_code.code, description=cost_code.description, division=cost_code.division,
            cost_type_code=assignment.cost_type.code, change=change, export_state=LineExportState.PENDING,
        ))


def _seed_commitments(session: Session, company: Company, projects: list[Project]) -> None:
    # The first project has no waiting update (Export goes through); the second has one.
    for project in projects[:2]:
        contract = Commitment(
            company_id=company.id, project_id=project.id, kind="contract", number="SC-001",
            title="Site concrete subcontract", amount_cents=48_250_000,
        )
        session.add(contract)
        session.flush()
        session.add(Commitment(
            company_id=company.id, project_id=project.id, parent_id=contract.id,
            kind="change_order", number="CO-001", title="Added footings at grid C",
            amount_cents=1_275_000,
        ))
