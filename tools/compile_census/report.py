"""Summarise a compile log of tools/compile_census/sitecustomize.py: ``python report.py LOG``.

Totals, then seconds (without nested compilations) by function, by test file and by test, and
the versions compiled by more than one process (processes racing for the same cache entry).
"""

import collections
import sys
from pathlib import Path


def main(path: str) -> None:
    rows = [line.split("\t") for line in Path(path).read_text().splitlines()]
    total = sum(float(r[3]) for r in rows)
    ours = [r for r in rows if r[4].startswith("kernelcli")]
    print(f"{len(rows)} compilations ({len(ours)} of kernelcli), {total:.1f} s, {len({r[0] for r in rows})} processes")
    for title, key, top in (("function", lambda r: r[4], 40), ("test file", lambda r: r[6].split("::")[0], 20),
                            ("test", lambda r: r[6].rsplit(" (", 1)[0], 20)):
        seconds, count = collections.defaultdict(float), collections.Counter()
        for r in rows:
            seconds[key(r)] += float(r[3])
            count[key(r)] += 1
        print(f"\n== by {title}")
        for name, s in sorted(seconds.items(), key=lambda item: -item[1])[:top]:
            print(f"{s:7.1f} {count[name]:4d}  {name}")
    versions = collections.defaultdict(list)
    for r in rows:
        versions[(r[4], r[5])].append(float(r[3]))
    again = {k: v for k, v in versions.items() if len(v) > 1}
    print(f"\n{len(again)} versions compiled by more than one process: {sum(sum(v) - max(v) for v in again.values()):.1f} s")


if __name__ == "__main__":
    main(sys.argv[1])
