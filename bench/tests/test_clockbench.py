"""Tests of the harness's own parsing, patching and reporting (run by bench/run.sh before measuring).

python -m unittest discover -s bench/tests   (with bench/ on PYTHONPATH and bench/.venv's Python)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, HERE)

from clockbench import analyze, peers, procs, report  # noqa: E402


class GnuTime(unittest.TestCase):
    def test_measures_a_real_process(self):
        with tempfile.TemporaryDirectory() as d:
            m = procs.run_measured([sys.executable, "-c", "x = bytearray(60 << 20); print(len(x))"],
                                   os.path.join(d, "out"), os.path.join(d, "err"))
            self.assertEqual(m.returncode, 0)
            self.assertGreater(m.peak_rss_mib, 60)  # the 60 MiB buffer must show in the peak
            self.assertGreater(m.wall_s, 0)
            with open(m.stdout_path) as f:
                self.assertEqual(f.read().strip(), str(60 << 20))

    def test_failed_process_is_a_result(self):
        with tempfile.TemporaryDirectory() as d:
            m = procs.run_measured([sys.executable, "-c", "import sys; sys.exit(3)"], os.path.join(d, "o"), os.path.join(d, "e"))
            self.assertEqual(m.returncode, 3)

    def test_missing_field_is_an_error(self):
        with self.assertRaisesRegex(ValueError, "peak_rss_kib"):
            procs.parse_gnu_time("User time (seconds): 1.0\nSystem time (seconds): 0.5\n")


class Outputs(unittest.TestCase):
    def write(self, d, lines):
        p = os.path.join(d, "out.jsonl")
        with open(p, "w") as f:
            f.write("\n".join(json.dumps(x) if not isinstance(x, str) else x for x in lines) + "\n")
        return p

    def test_airbyte_records_ids_errors_and_bad_lines(self):
        rec = lambda s, i: {"type": "RECORD", "record": {"stream": s, "data": {"id": i}, "emitted_at": 1}}  # noqa: E731
        lines = [rec("users", "a"), rec("users", "b"), rec("users", "a"), rec("time_entries", "t1"),
                 {"type": "STATE", "state": {}}, "not json",
                 {"type": "TRACE", "trace": {"type": "ERROR", "error": {"message": "boom"}}},
                 {"type": "LOG", "log": {"level": "INFO", "message": "clockify: no 429 for 1s; request rate raised to 5.5/s"}}]
        with tempfile.TemporaryDirectory() as d:
            p = self.write(d, lines)
            out = analyze.read_output(p, "airbyte", want_ids=True, keep_logs=True)
            self.assertEqual(out.records, {"users": 3, "time_entries": 1})
            self.assertEqual(out.errors, ["boom"])
            self.assertEqual(out.bad_lines, 1)
            self.assertEqual(analyze.rate_event(out.logs[0]), ("raise", 5.5))
            fast = analyze.read_output(p, "airbyte", want_ids=False)
            self.assertEqual(fast.records, out.records)
            truth = {"workspace_users": ["a", "b", "c"], "time_entries": ["t1", "t2"]}
            res = analyze.against_truth(out, {"workspace_users": "users", "time_entries": "time_entries"}, truth)
            self.assertEqual(res["workspace_users"], {"truth": 3, "emitted": 3, "duplicates": 1, "missing": 1, "unexpected": 0})
            self.assertEqual(res["time_entries"]["missing"], 1)

    def test_singer_records(self):
        lines = [{"type": "SCHEMA", "stream": "tags", "schema": {}}, {"type": "RECORD", "stream": "tags", "record": {"id": "x"}},
                 {"type": "RECORD", "stream": "tags", "record": {"id": "y"}}]
        with tempfile.TemporaryDirectory() as d:
            out = analyze.read_output(self.write(d, lines), "singer", want_ids=True)
            self.assertEqual(out.records, {"tags": 2})
            self.assertEqual(out.ids["tags"], ["x", "y"])

    def test_rate_cut(self):
        self.assertEqual(analyze.rate_event("clockify: HTTP 429 Too Many Requests; request rate cut from 8.0/s to 4.0/s"), ("cut", 4.0))
        self.assertIsNone(analyze.rate_event("clockify: GET /x: boom; retry 1 of 5 in 1s"))


class Patching(unittest.TestCase):
    def fake_venv(self, d, rel, text):
        p = os.path.join(d, "lib", "python3.10", "site-packages", rel)
        os.makedirs(os.path.dirname(p))
        with open(p, "w") as f:
            f.write(text)
        os.makedirs(os.path.join(d, "bin"), exist_ok=True)
        return p

    def test_airbyte_manifest_rewritten_from_pristine_copy(self):
        with tempfile.TemporaryDirectory() as d:
            p = self.fake_venv(d, "source_clockify/manifest.yaml",
                               "a: 1\n  base_requester:\n    url_base: https://api.clockify.me/api/v1/\n    b: 2\n")
            ab = peers.Airbyte(d)
            ab.point_at("http://127.0.0.1:1111")
            ab.point_at("http://127.0.0.1:2222")
            with open(p) as f:
                text = f.read()
            self.assertIn("    url_base: http://127.0.0.1:2222/api/v1/\n", text)
            self.assertNotIn("1111", text)
            with open(p + ".orig") as f:
                self.assertIn("https://api.clockify.me/api/v1/", f.read())

    def test_airbyte_manifest_without_the_line_is_refused(self):
        with tempfile.TemporaryDirectory() as d:
            self.fake_venv(d, "source_clockify/manifest.yaml", "url_base: https://example.invalid/\n")
            with self.assertRaisesRegex(RuntimeError, "found 0"):
                peers.Airbyte(d).point_at("http://127.0.0.1:1")

    def test_tap_base_url_rewritten(self):
        with tempfile.TemporaryDirectory() as d:
            p = self.fake_venv(d, "tap_clockify/base.py", '    def get_url_base(self):\n        return "https://api.clockify.me/api/v1"\n')
            peers.Tap(d).point_at("http://127.0.0.1:3333")
            with open(p) as f:
                self.assertIn('return "http://127.0.0.1:3333/api/v1"', f.read())


class Reporting(unittest.TestCase):
    def test_failed_peer_is_reported_and_kept_out_of_ratios(self):
        run = lambda peer, exit_, wall: {"peer": peer, "exit": exit_, "wall_s": wall, "cpu_s": 1.0, "peak_rss_mib": 10.0,  # noqa: E731
                                         "requests": 5, "too_many": 0, "records": {"time_entries": 100}, "records_total": 100,
                                         "errors": ["kaput"] if exit_ else [],
                                         "truth": {"time_entries": {"truth": 100, "emitted": 100, "duplicates": 0, "missing": 0, "unexpected": 0}}}
        res = {"plan": "quick", "machine": {}, "sections": {"compare": {
            "time_entries": 100, "truth_counts": {}, "minimum_requests": {"50": 3, "5000": 2},
            "runs": {"ours": [run("ours", 0, 2.0)], "airbyte": [run("airbyte", 1, 9.0)]}}}}
        with tempfile.TemporaryDirectory() as d:
            md = os.path.join(d, "B.md")
            report.write(res, md, os.path.join(d, "plots"))
            with open(md) as f:
                text = f.read()
            self.assertIn("**failed** (exit 1): kaput", text)
            self.assertNotIn("faster than Airbyte", text)
            self.assertTrue(os.path.exists(os.path.join(d, "plots", "sources.png")))

    def test_medians_skip_failed_runs(self):
        self.assertEqual(report.med([{"exit": 0, "x": 1.0}, {"exit": 2, "x": 100.0}, {"exit": 0, "x": 3.0}], "x"), 2.0)
        self.assertIsNone(report.med([{"exit": 1, "x": 1.0}], "x"))


class Loader(unittest.TestCase):
    def test_column_types_follow_the_destination_mapping(self):
        sys.path.insert(0, HERE)
        import pyarrow as pa
        import pyiceberg_load as pl

        self.assertEqual(pl.column_type({"type": ["null", "string"]}), (pa.string(), "str"))
        self.assertEqual(pl.column_type({"type": "string", "format": "date-time"})[1], "ts")
        self.assertEqual(pl.column_type({"type": ["null", "integer"]}), (pa.int64(), "int"))
        self.assertEqual(pl.column_type({"type": ["null", "object"]}), (pa.string(), "json"))
        self.assertEqual(pl.column_type({"type": ["string", "integer"]}), (pa.string(), "json"))
        self.assertEqual(pl.convert("json", {"b": [1]}), '{"b":[1]}')
        self.assertIsNone(pl.convert("int", "12x"))

    def test_loads_records_into_a_sqlite_catalog(self):
        import pyiceberg_load  # noqa: F401  (the script is run as a process below, as the benchmark does)

        schema = {"type": "object", "properties": {"id": {"type": "string"}, "billable": {"type": ["null", "boolean"]},
                                                   "timeInterval": {"type": ["null", "object"]}}}
        cat = {"streams": [{"stream": {"name": "time_entries", "json_schema": schema}, "sync_mode": "full_refresh",
                            "destination_sync_mode": "append"}]}
        with tempfile.TemporaryDirectory() as d:
            cp, ip = os.path.join(d, "cat.json"), os.path.join(d, "in.jsonl")
            with open(cp, "w") as f:
                json.dump(cat, f)
            with open(ip, "w") as f:
                for i in range(25):
                    f.write(json.dumps({"type": "RECORD", "record": {"stream": "time_entries", "emitted_at": 1700000000000,
                                                                     "data": {"id": str(i), "billable": i % 2 == 0, "timeInterval": {"start": "x"}}}}) + "\n")
                f.write(json.dumps({"type": "STATE", "state": {"type": "STREAM"}}) + "\n")
            out = subprocess.run([sys.executable, os.path.join(HERE, "pyiceberg_load.py"), "--input", ip, "--catalog", cp,
                                  "--stream", "time_entries", "--warehouse", os.path.join(d, "wh"), "--batch-rows", "10"],
                                 capture_output=True, text=True, timeout=300)
            self.assertEqual(out.returncode, 0, out.stderr[-2000:])
            res = json.loads(out.stdout)
            self.assertEqual((res["records"], res["appends"], res["table_rows"]), (25, 3, 25))
            sys.path.insert(0, HERE)
            from clockbench.__main__ import table_rows

            self.assertEqual(table_rows(os.path.join(d, "wh"), "time_entries"), 25)


if __name__ == "__main__":
    unittest.main()


class MaintenanceSection(unittest.TestCase):
    @staticmethod
    def _points(growth: float, syncs: int = 200) -> list:
        figs = lambda s: {"rows": 50 * s, "snapshots": 10 + growth * s, "data_files": 3, "delete_files": 0,  # noqa: E731
                          "manifests": 4, "metadata_bytes": 25000, "total_bytes": 10**6 + growth * 1000 * s, "scan_s": 0.01}
        return [{"sync": s, "sync_s": 0.5, "tables": {"time_entries": figs(s), "tags": figs(s)}} for s in [1] + list(range(10, syncs + 1, 10))]

    def test_flat_figures_meet_the_goal_and_growing_ones_miss_it(self):
        from clockbench import maintenance
        flat, grows = self._points(0), self._points(1)
        self.assertEqual(maintenance.flatness(flat, "time_entries", "snapshots"), 1.0)
        self.assertEqual(maintenance.flatness(flat, "time_entries", "delete_files"), 1.0)  # zero at both ends is flat
        self.assertAlmostEqual(maintenance.flatness(grows, "time_entries", "snapshots"), 210 / 30)
        for on, want in ((flat, "met"), (grows, "missed")):
            res = {"plan": "full", "sections": {"maintenance": {
                "argv": ["go", "run", "./bench/maintbench"], "syncs": 200, "off_syncs": 100, "new_per_sync": 50,
                "lookback": 100, "tags": 30, "maintenance_on_config": {}, "seconds": {"on": 1, "off": 1},
                "modes": {"on": on, "off": self._points(1, 100)}}}}
            with tempfile.TemporaryDirectory() as d:
                md = os.path.join(d, "B.md")
                report.write(res, md, os.path.join(d, "plots"))
                with open(md, encoding="utf-8") as f:
                    text = f.read()
                self.assertIn("| time_entries: snapshots, maintenance on | ≤ 1.5 |", text)
                row = next(l for l in text.splitlines() if l.startswith("| time_entries: snapshots, maintenance on"))
                self.assertTrue(row.rstrip().endswith(want + " |"), row)
                self.assertTrue(os.path.exists(os.path.join(d, "plots", "maintenance.png")))
