from tests.sync.fixtures import erp, seeded_erp_file  # noqa: F401 (fixtures)
