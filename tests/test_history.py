"""The history on its own: migrations, leases across processes, the sweep and budget reservations."""

from __future__ import annotations

import random
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from motion_studio import followers
from motion_studio.errors import BudgetError
from motion_studio.history.runs import Run
from motion_studio.history.schema import MIGRATIONS, migrate
from motion_studio.history.store import History
from motion_studio.order import Options

from .old_databases import old_database, old_upload_cache

ROOT = Path(__file__).resolve().parents[1]


def a_run(**values: object) -> Run:
    return Run(options=Options(), endpoint="e", **values)  # type: ignore[arg-type]


def test_schema_is_versioned_and_delete_removes_files(tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite3", tmp_path / "runs")
    assert history.db.schema_version == len(MIGRATIONS) == 9
    run = history.writes.create(a_run())
    (history.db.run_dir(run.id) / "output.mp4").write_bytes(b"x")
    history.writes.record(run.id, "uploading")
    again = History(tmp_path / "h.sqlite3", tmp_path / "runs")  # reopening migrates nothing twice
    assert again.db.schema_version == len(MIGRATIONS)
    with pytest.raises(ValueError, match="unknown"):
        again.writes.update(run.id, fal_key="nope")
    again.writes.delete(run.id)
    assert again.reads.get(run.id) is None and not (tmp_path / "runs" / run.id).exists()
    assert again.reads.events(run.id) == []


@pytest.mark.parametrize("version", [1, 2, 3, 4, 5])
def test_an_old_database_is_migrated_with_its_runs_and_timeline(tmp_path: Path, version: int) -> None:
    db = old_database(tmp_path, version, status="running", request_id="req-1")
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("INSERT INTO run_events (run_id, at, state) VALUES ('old-run', 1, 'running')")
    conn.close()
    history = History(db, tmp_path / "runs")
    assert history.db.schema_version == len(MIGRATIONS)
    [old] = history.reads.recent()
    assert old.id == "old-run" and old.owner is None and old.lease_holder is None
    assert old.options == Options(orientation="video", model="pro")
    assert [e.state for e in history.reads.events("old-run")] == ["running"]  # the rebuild kept the timeline
    mine = history.writes.create(a_run(owner="browser-a"))
    assert [r.id for r in history.reads.recent(owner="browser-a")] == [mine.id]
    assert [r.id for r in history.reads.unfinished()] == ["old-run"]


def test_the_options_columns_fold_into_one_json_value_losing_nothing(tmp_path: Path) -> None:
    """A real v5 file (the release before options were one value), with runs of every kind: each
    option, and every bookkeeping column, reads back the same after the one-transaction migration."""
    db = old_database(tmp_path, 5)
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute(
        "INSERT INTO runs (id, created_at, updated_at, status, tier, endpoint, orientation, prompt, keep_sound, "
        "key_source, image_path, request_id, owner, face_frontal, face_angles, batch_id, batch_index, batch_size, "
        "estimated_cost) VALUES ('v3-run', 2, 3, 'done', 'v3-standard', 'fal-ai/x', 'image', ?, 0, 'session', "
        "'/i.png', 'req-9', 'browser', '/f.jpg', '[\"/a.png\"]', 'b-1', 2, 3, 0.63)",
        ('a "quoted" prompt, ünïcode @Element1',),
    )
    conn.execute("INSERT INTO run_events (run_id, at, state, detail) VALUES ('v3-run', 2, 'done', 'ok')")
    conn.close()
    history = History(db, tmp_path / "runs")
    run = history.reads.get("v3-run")
    assert run is not None and history.db.schema_version == len(MIGRATIONS)
    assert run.options == Options(
        orientation="image",
        prompt='a "quoted" prompt, ünïcode @Element1',
        keep_sound=False,
        model="v3-standard",
    )
    assert (run.endpoint, run.key_source, run.image_path, run.request_id, run.owner) == (
        "fal-ai/x",
        "session",
        "/i.png",
        "req-9",
        "browser",
    )
    assert (run.face_frontal, run.face_angles, run.batch_id, run.batch_index, run.batch_size) == (
        "/f.jpg",
        ("/a.png",),
        "b-1",
        2,
        3,
    )
    assert run.estimated_cost == 0.63 and (run.created_at, run.status) == (2, "done")
    assert [(e.state, e.detail) for e in history.reads.events("v3-run")] == [("done", "ok")]
    columns = {row[1] for row in sqlite3.connect(db).execute("PRAGMA table_info(runs)")}
    assert {"tier", "orientation", "prompt", "keep_sound"}.isdisjoint(columns) and "options" in columns


def test_a_stored_option_the_studio_no_longer_has_is_skipped(tmp_path: Path) -> None:
    """Options are data: a field a later release dropped (or an older one never had) reads fine."""
    history = History(tmp_path / "h.sqlite3", tmp_path / "runs")
    run = history.writes.create(a_run())
    with sqlite3.connect(tmp_path / "h.sqlite3") as conn:
        conn.execute(
            "UPDATE runs SET options = ? WHERE id = ?",
            ('{"orientation": "image", "model": "standard", "retired_option": 1}', run.id),
        )
    again = history.reads.get(run.id)
    assert again is not None and again.options == Options(orientation="image", model="standard")


def test_a_migration_that_fails_half_way_leaves_the_database_as_it_was(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite3"
    History(db, tmp_path / "runs")
    broken = [*MIGRATIONS, "ALTER TABLE runs ADD COLUMN extra TEXT;\nTHIS IS NOT SQL;"]
    conn = sqlite3.connect(db, isolation_level=None)
    with pytest.raises(sqlite3.OperationalError):
        migrate(conn, broken)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    columns = {row[1] for row in conn.execute("PRAGMA table_info(runs)")}
    assert "extra" not in columns  # the first statement was rolled back with the rest
    conn.close()
    assert History(db, tmp_path / "runs").db.schema_version == len(MIGRATIONS)  # and it still opens


def test_processes_starting_together_migrate_once(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite3"
    code = (
        "import sys; from pathlib import Path; from motion_studio.history.store import History; "
        "h = History(Path(sys.argv[1]), Path(sys.argv[2])); print(h.db.schema_version)"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(db), str(tmp_path / "runs")],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(6)
    ]
    results = [proc.communicate(timeout=60) for proc in procs]
    assert [out.strip() for out, _ in results] == [str(len(MIGRATIONS))] * 6, [err for _, err in results]


def test_connections_opening_a_new_database_together_all_come_up(tmp_path: Path) -> None:
    """The journal-mode switch on a fresh file answers BUSY at once (no busy timeout) to whoever
    loses the race; before the retry this failed about one round in six (and once in CI)."""
    for round_ in range(30):
        db = tmp_path / f"h{round_}.sqlite3"
        start = threading.Barrier(8)
        errors: list[BaseException] = []

        def open_it(
            db: Path = db, start: threading.Barrier = start, errors: list[BaseException] = errors
        ) -> None:
            conn = sqlite3.connect(db, timeout=30, isolation_level=None, check_same_thread=False)
            start.wait()
            try:
                migrate(conn)
            except BaseException as error:  # collected for the assertion
                errors.append(error)
            finally:
                conn.close()

        threads = [threading.Thread(target=open_it) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == [], errors
        assert History(db, tmp_path / "runs").db.schema_version == len(MIGRATIONS)


def test_one_follower_per_run_across_processes(tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite3", tmp_path / "runs")
    mine = followers.new_holder()
    run = history.writes.create(a_run(), holder=mine)
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        alive = f"{followers._HOST}:{other.pid}:abc"
        assert not history.leases.claim(run.id, alive)  # held by this live process
        with sqlite3.connect(history.db.db_path) as conn:  # a live follower here is asked, not its expiry
            conn.execute("UPDATE runs SET lease_until = 0 WHERE id = ?", (run.id,))
        assert not history.leases.claim(run.id, alive)
        history.leases.release(run.id, mine)
        assert history.leases.claim(run.id, alive)
        assert not history.leases.claim(run.id, mine)  # now the other process follows it
        assert history.leases.is_followed(history.reads.get(run.id))
    finally:
        other.kill()
        other.wait()
    assert history.leases.claim(run.id, mine)  # its process died: the lease is free at once
    followers.retire(mine)
    assert history.leases.claim(run.id, followers.new_holder())  # a holder of this pid that shut down


def test_the_sweep_settles_what_a_dead_follower_left(tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite3", tmp_path / "runs")
    dead = f"{followers._HOST}:999999999:gone"
    live = followers.new_holder()
    checking = history.writes.create(a_run(), holder=dead)
    uploading = history.writes.create(a_run(), holder=dead)
    history.writes.record(uploading.id, "uploading")
    sending = history.writes.create(a_run(), holder=dead)
    for state in ("uploading", "submitting"):
        history.writes.record(sending.id, state)
    elsewhere = history.writes.create(a_run(), holder="another-host:1:x")  # judged by its lease's expiry
    paid = history.writes.create(a_run(), holder=dead)
    for state in ("uploading", "submitting"):
        history.writes.record(paid.id, state)
    history.writes.record(paid.id, "submitted", request_id="req-1")
    followed = history.writes.create(a_run(), holder=live)
    history.writes.record(followed.id, "uploading")
    swept = {run.id: run for run in history.leases.sweep()}
    assert set(swept) == {checking.id, uploading.id, sending.id, paid.id}  # not `elsewhere`, yet
    with sqlite3.connect(history.db.db_path) as conn:
        conn.execute("UPDATE runs SET lease_until = 0 WHERE id = ?", (elsewhere.id,))
    assert [r.id for r in history.leases.sweep()] == [elsewhere.id]
    assert swept[checking.id].status == swept[uploading.id].status == "stopped"
    assert "nothing was charged" in swept[uploading.id].error_message
    assert swept[sending.id].status == "unknown"
    assert swept[paid.id].status == "interrupted" and "Resume" in swept[paid.id].error_message
    assert all(run.lease_holder is None for run in swept.values())  # settled, and free to resume
    assert history.reads.get(followed.id).status == "uploading"  # a live follower's run is left alone
    followers.retire(live)


def test_concurrent_reservations_never_pass_the_daily_budget(tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite3", tmp_path / "runs")
    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def reserve() -> None:
        barrier.wait()
        try:
            history.writes.create(a_run(estimated_cost=0.56), daily_budget=2.0)
            outcomes.append("ok")
        except BudgetError:
            outcomes.append("refused")

    threads = [threading.Thread(target=reserve) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ok"] * 3 + ["refused"] * 5
    assert history.reads.server_spend_since(0) == pytest.approx(3 * 0.56)


def test_runs_that_never_reached_fal_give_their_reservation_back(tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite3", tmp_path / "runs")
    failed = history.writes.create(a_run(estimated_cost=1.0))
    history.writes.end(failed.id, "failed")  # refused by fal at submit: no request id
    stopped = history.writes.create(a_run(estimated_cost=1.0))
    history.writes.end(stopped.id, "stopped")
    paid = history.writes.create(a_run(estimated_cost=0.5))
    for state in ("uploading", "submitting"):
        history.writes.record(paid.id, state)
    history.writes.record(paid.id, "submitted", request_id="r")
    history.writes.end(paid.id, "failed")  # fal accepted it: it counts
    waiting = history.writes.create(a_run(estimated_cost=0.25))  # on its way: reserved
    assert history.reads.server_spend_since(0) == pytest.approx(0.75)
    assert waiting.id


def test_a_visitors_limits_hold_under_concurrency(tmp_path: Path) -> None:
    from motion_studio.errors import VisitorLimitError
    from motion_studio.history.limits import VisitorLimits

    history = History(tmp_path / "h.sqlite3", tmp_path / "runs")
    limits = VisitorLimits(active=2, per_hour=3)
    outcomes: list[str] = []
    barrier = threading.Barrier(6)

    def start(owner: str) -> None:
        barrier.wait()
        try:
            history.writes.create(a_run(owner=owner), visitor_limits=limits)
            outcomes.append(owner)
        except VisitorLimitError as exc:
            outcomes.append("refused: " + exc.message)

    threads = [threading.Thread(target=start, args=(o,)) for o in ["a"] * 5 + ["b"]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes)[:3] == ["a", "a", "b"]  # two going for a; b is someone else
    assert all("already have 2 runs going" in o for o in sorted(outcomes)[3:])
    [first, *_] = history.reads.recent(owner="a")
    history.writes.end(first.id, "stopped")  # one ends: a third may start, but then the hour is full
    history.writes.create(a_run(owner="a"), visitor_limits=limits)
    with pytest.raises(VisitorLimitError, match="3 runs on this server's key in the last hour"):
        history.writes.end(history.reads.recent(owner="a")[0].id, "stopped")
        history.writes.create(a_run(owner="a"), visitor_limits=limits)
    history.writes.create(a_run(owner="a", key_source="session"))  # a visitor's own key is never limited


def test_pages_of_runs_are_newest_first_with_no_gaps_or_repeats(tmp_path: Path) -> None:
    """500 runs, many created in the same instant and inserted out of order, paged 50 at a time."""
    history = History(tmp_path / "h.sqlite3", tmp_path / "runs")
    times = [1000.0 + i // 10 for i in range(500)]  # ten runs per instant
    random.Random(7).shuffle(times)
    owners = ["a", "b", None]
    made = [
        (history.writes.create(a_run(created_at=t, owner=owners[i % 3])).id, t, i, owners[i % 3])
        for i, t in enumerate(times)
    ]
    newest_first = sorted(made, key=lambda m: (-m[1], -m[2]))  # ties: the later row first

    def paged(owner: str | None, size: int = 50) -> list[str]:
        ids: list[str] = []
        for offset in range(0, 500, size):
            page = history.reads.recent(size, owner=owner, offset=offset)
            assert len(page) <= size
            ids += [run.id for run in page]
        return ids

    everything = paged(None)
    assert everything == [m[0] for m in newest_first]
    assert len(set(everything)) == 500 == history.reads.count()
    assert paged(None) == everything  # the same order every time
    assert history.reads.recent(50, offset=500) == [] and history.reads.recent(0) == []
    assert [r.id for r in history.reads.recent(3)] == everything[:3]  # the old call still works
    for owner in ("a", "b"):
        mine = [m[0] for m in newest_first if m[3] == owner]
        assert paged(owner, size=17) == mine and history.reads.count(owner) == len(mine)
    assert history.reads.count("nobody") == 0 and history.reads.recent(owner="nobody") == []


def test_active_count_says_whether_a_page_must_keep_polling(tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite3", tmp_path / "runs")
    assert history.reads.active_count() == 0 and history.reads.count() == 0
    history.writes.create(a_run(owner="a", status="done"))
    history.writes.create(a_run(owner="a", status="running", request_id="r1"))
    history.writes.create(a_run(owner="b", status="interrupted", request_id="r2"))
    checking = history.writes.create(a_run())
    assert history.reads.active_count() == 3 and history.reads.active_count(in_flight=True) == 2
    assert history.reads.active_count("a") == 1 and history.reads.active_count("b") == 1
    assert history.reads.active_count("b", in_flight=True) == 0  # only a Resume changes it
    assert history.reads.active_count("nobody") == 0
    history.writes.end(checking.id, "stopped")
    assert history.reads.active_count() == 2 and history.reads.active_count(in_flight=True) == 1
    assert history.reads.count() == 4 and history.reads.count("a") == 2


def test_uploads_gain_an_expiry_and_an_old_cached_upload_stays_usable(tmp_path: Path) -> None:
    """v7: a v6 file's cached upload (sent without an expiry) is kept and still reused; a new one
    carries its expiry, and is not handed out once it would be gone before fal fetches it."""
    now = time.time()
    db = old_upload_cache(tmp_path, "old-sha", "https://v3.fal.media/files/old/a.png", now - 60)
    history = History(db, tmp_path / "runs")
    assert history.db.schema_version == len(MIGRATIONS)
    assert (
        history.uploads.cached_upload("old-sha", 3600, alive_for=1800)
        == "https://v3.fal.media/files/old/a.png"
    )
    history.uploads.remember_upload("new-sha", "https://v3.fal.media/files/new/b.png", expires_at=now + 3600)
    assert (
        history.uploads.cached_upload("new-sha", 3600, alive_for=1800)
        == "https://v3.fal.media/files/new/b.png"
    )
    assert (
        history.uploads.cached_upload("new-sha", 3600, alive_for=7200) is None
    )  # expires before fal would read it
    history.uploads.remember_upload("gone-sha", "https://v3.fal.media/files/gone/c.png", expires_at=now - 1)
    assert history.uploads.cached_upload("gone-sha", 3600) is None  # past its expiry: never reused


def test_runs_gain_what_fal_returned_and_whether_the_sound_was_put_back(tmp_path: Path) -> None:
    """v9: a v8 file's run reads with nothing returned and nothing done to its sound; a new run keeps
    what its model told (JSON) and the sound's flag, and reads them back as they were written."""
    history = History(old_database(tmp_path, 8, status="downloading", request_id="req-8"), tmp_path / "runs")
    assert history.db.schema_version == len(MIGRATIONS) == 9
    old = history.reads.get("old-run")
    assert old is not None and old.returned == {} and old.sound_added is None
    assert old.options == Options(orientation="video", model="pro") and old.request_id == "req-8"
    history.writes.update("old-run", returned={"prompt": 'a "quoted" ünïcode prompt', "seed": 7})
    history.writes.record("old-run", "done", sound_added=False)
    again = history.reads.get("old-run")
    assert again is not None and again.status == "done" and again.sound_added is False
    assert again.returned == {"prompt": 'a "quoted" ünïcode prompt', "seed": 7}
    new = history.writes.create(a_run(returned={"seed": 1}, sound_added=True))
    made = history.reads.get(new.id)
    assert made is not None and (made.returned, made.sound_added) == ({"seed": 1}, True)
