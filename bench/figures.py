"""The figures measured in the bench process or in a probe child process (bench/probe.py)."""

from __future__ import annotations

from bench.harness import Bench, PortalWrong, Row, median_ms


def jobs_tab_in_process(bench: Bench) -> None:
    from bench.floor_app import app as floor_app

    url = "/erp-integrations/jobs?filter=ready_to_update"
    client = bench.client(bench.ids.approver_id)
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    # As for a logged-in browser: the page leaves the session alone.
    assert "Set-Cookie" not in response.headers, response.headers.get("Set-Cookie")
    floor_client = floor_app.test_client()
    floor_url = bench.jobs_floor_path()
    repeat = 30 if bench.quick else 100
    ours = median_ms(lambda: client.get(url), repeat)
    floor = median_ms(lambda: floor_client.get(floor_url), repeat)
    bench.add(
        Row(
            "Jobs tab, Ready to Update, page of 50 (in-process median)",
            ours,
            floor,
            "ms",
            "time",
            "report",
            None,
        )
    )


def update_window(bench: Bench) -> None:
    from flask import url_for

    from bench.floor_app import app as floor_app

    with bench.app.test_request_context():
        url = url_for("erp_integrations.requested_updates", request_id=bench.ids.big_request_id)
    client = bench.client(bench.ids.approver_id)
    response = client.get(url, headers={"HX-Request": "true"})
    assert response.status_code == 200, (url, response.status_code)
    assert response.data.count(b"<tr") >= bench.scale.big_request_lines
    floor_client = floor_app.test_client()
    repeat = 10 if bench.quick else 30
    ours = median_ms(lambda: client.get(url, headers={"HX-Request": "true"}), repeat)
    floor = median_ms(lambda: floor_client.get(f"/window/{bench.floor_ids.big_request_id}"), repeat)
    ratio = ours / floor
    bench.add(
        Row(
            f"Cost Codes for Update window, {bench.scale.big_request_lines} lines",
            ours,
            floor,
            "ms",
            "time",
            "<= 1.5x floor time",
            ratio <= 1.5,
        )
    )


def refresh(bench: Bench) -> None:
    for label, project_id in (
        ("empty project", bench.ids.empty_project_id),
        ("project already up to date", bench.ids.up_to_date_project_id),
    ):
        ours = bench._median_probe("refresh", project_id)
        floor = bench._median_probe("floor", project_id)
        bench.add(
            Row(
                f"Refresh one project from {bench.scale.standard_codes} company codes, {label}",
                ours["seconds"] * 1000,
                floor["seconds"] * 1000,
                "ms",
                "time",
                "<= 2x floor time, <= 150 MB peak RSS",
                ours["seconds"] <= 2 * floor["seconds"] and ours["peak_rss_mb"] <= 150,
                f"peak RSS {ours['peak_rss_mb']:.0f} MB (floor process {floor['peak_rss_mb']:.0f} MB); "
                f"median of {ours['samples']} cold runs",
            )
        )


def sync_export(bench: Bench) -> None:
    scratch = bench.work / "export-floor.sqlite"
    result = bench._run_probe("export", bench.url, 0, bench.ids.approver_id, scratch)
    bench.add(
        Row(
            f"Sync export of {result['lines']} approved lines to the reference ERP",
            result["seconds"] * 1000,
            result["floor_seconds"] * 1000,
            "ms",
            "time",
            "<= 2x floor",
            result["seconds"] <= 2 * result["floor_seconds"],
            f"{result['in_erp']} budget lines in the ERP after; ERP held {result['erp_rows_before']} rows "
            f"before; floor: the same {result['statements']} statements from raw SQL",
        )
    )


def approval_to_erp(bench: Bench) -> None:
    result = bench._run_probe("approval-to-erp", bench.url, 0, bench.ids.approver_id, "-")
    bench.add(
        Row(
            "Approval -> code present in the reference ERP, with Sync Now",
            result["seconds"],
            None,
            "s",
            "time",
            "<= 5 s",
            result["seconds"] <= 5 and result["present"],
        )
    )
    if not result["present"]:
        raise PortalWrong("the approved code never reached the reference ERP")


def mixed_load(bench: Bench) -> None:
    from bench.mixed import run_mixed_load

    seconds = 10 if bench.quick else 60
    result = run_mixed_load(bench, seconds)
    bench.add(
        Row(
            f"Mixed load {seconds}s, gunicorn -w 2: Jobs tab reads + 20 approvals + 5 refreshes",
            result["p50_ms"],
            None,
            "ms p50",
            "time",
            "0 errors, 0 lost updates",
            result["errors"] == 0 and result["lost_updates"] == 0,
            f"p99 {result['p99_ms']:.1f} ms, {result['reads']} reads, errors {result['errors']}, "
            f"lost updates {result['lost_updates']} (approvals answered {result['approvals_accepted']}, "
            f"stored {result['approved']}; refreshes answered {result['refreshes_accepted']}, "
            f"stored {result['refreshed']})",
        )
    )
    if result["errors"] or result["lost_updates"]:
        raise PortalWrong(f"{result['errors']} server errors, {result['lost_updates']} lost updates")


def login_flood(bench: Bench) -> None:
    from bench.login_flood import CLIENTS, run_login_flood

    seconds = 4 if bench.quick else 10
    result = run_login_flood(bench, seconds)
    bench.add(
        Row(
            f"Log-in flood {seconds}s, {CLIENTS} clients' wrong passwords: "
            "admin's save p99 (floor: no flood)",
            result["flood_p99_ms"],
            result["quiet_p99_ms"],
            "ms",
            "time",
            "0 errors",
            result["errors"] == 0,
            f"errors {result['errors']}, {result['wrong_log_ins']} wrong log-ins answered "
            f"({result['log_ins_per_s']:.1f}/s), {result['throttled']} throttled; "
            f"{result['saves']} saves, p50 {result['flood_p50_ms']:.1f} ms",
        )
    )
