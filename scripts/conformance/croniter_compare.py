"""Cross-check `warren schedules next` against croniter (PyPI) on random UTC expressions.

    pip install croniter
    python3 scripts/conformance/croniter_compare.py [SEED] [CASES]

Skips what croniter refuses (`5L`) and `#` beside a restricted day-of-month, which croniter
does not combine with Vixie's OR rule. Not part of CI; prints each difference and a count.
"""
import os, random, subprocess, datetime as dt, sys
from croniter import croniter
random.seed(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
W = os.environ.get("WARREN", ".build/debug/warren")
def field(opts): return random.choice(opts)
mins = ["*", "0", "*/15", "5,35", "10-20", "0-59/7", "59", "30"]
hours = ["*", "0", "2", "*/6", "9-17", "1,13", "23"]
doms = ["*", "*", "1", "15", "L", "1-7", "10,20,30", "31", "29"]
mons = ["*", "*", "2", "*/3", "1-6", "JAN,JUL", "2,4,6"]
dows = ["*", "*", "*", "1", "MON-FRI", "0", "6,0", "5L", "1#2", "SAT", "7"]
bad = 0; n = 0
for i in range(int(sys.argv[2]) if len(sys.argv) > 2 else 300):
    expr = " ".join([field(mins), field(hours), field(doms), field(mons), field(dows)])
    start = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(seconds=random.randrange(0, 10*365*86400))
    try:
        it = croniter(expr, start)
        exp = [it.get_next(dt.datetime).strftime("%Y-%m-%dT%H:%M:%S+00:00") for _ in range(4)]
    except Exception as e:
        exp = ["ERR " + type(e).__name__]
    r = subprocess.run([W, "schedules", "next", "--cron", expr, "--from", start.strftime("%Y-%m-%dT%H:%M:%SZ"), "--count", "4"], capture_output=True, text=True)
    got = r.stdout.split() if r.returncode == 0 else ["ERR " + r.stderr.strip()]
    n += 1
    if exp[0].startswith("ERR Croniter") or ("#" in expr and expr.split()[2] != "*"): n -= 1; continue
    if got != exp:
        bad += 1
        if bad <= 15: print(expr, start.isoformat(), "\n  croniter:", exp, "\n  warren:  ", got)
print(f"{bad} differences in {n}")
