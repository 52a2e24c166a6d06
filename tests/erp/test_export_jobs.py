"""export_jobs: how the sync hands a batch of several jobs to a connector."""
from portal.erp.base import ErpConnector, ErpError, ExportLine, LineResult, export_jobs

LINES = {
    "1001": [ExportLine("2010", "Site Work", "1")],
    "1002": [ExportLine("3000", "Concrete", "4")],
}


class OneJobAtATime(ErpConnector):
    """A connector with the default export_job_cost_codes, whose job 1001 cannot be reached."""

    def __init__(self):
        self.jobs_asked: list[str] = []

    def export_cost_code_lines(self, job_number, lines):
        self.jobs_asked.append(job_number)
        if job_number == "1001":
            raise ErpError("The ERP did not answer for job 1001.")
        return [LineResult(line.code, line.cost_type, "created") for line in lines]


class ManyJobsAtOnce:
    def __init__(self, error: ErpError | None = None):
        self.calls = 0
        self.error = error

    def export_job_cost_codes(self, lines_by_job):
        self.calls += 1
        if self.error:
            raise self.error
        return {job: [LineResult(line.code, line.cost_type, "created") for line in lines]
                for job, lines in lines_by_job.items()}


def test_a_connector_without_the_many_jobs_call_is_asked_job_by_job_and_one_failure_stays_its_own():
    connector = OneJobAtATime()
    answers = export_jobs(connector, LINES)
    assert connector.jobs_asked == ["1001", "1002"]
    assert isinstance(answers["1001"], ErpError)
    assert [result.outcome for result in answers["1002"]] == ["created"]


def test_a_connector_with_the_many_jobs_call_gets_one_call():
    connector = ManyJobsAtOnce()
    answers = export_jobs(connector, LINES)
    assert connector.calls == 1
    assert {job: [r.outcome for r in results] for job, results in answers.items()} == {
        "1001": ["created"], "1002": ["created"],
    }


def test_an_erp_that_cannot_be_used_fails_every_job_of_the_call():
    error = ErpError("There is no company \"acme\" in the reference ERP.")
    answers = export_jobs(ManyJobsAtOnce(error), LINES)
    assert answers == {"1001": error, "1002": error}
