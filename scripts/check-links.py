#!/usr/bin/env python3
"""Checks that every relative link in the documentation points to a file that exists.

Reads README.md, ARCHITECTURE.md, BENCHMARKS.md and docs/*.md (or the Markdown files
given as arguments), finds every inline link or image `[text](target)` and every
reference definition `[label]: target` outside code, and resolves each target that
is not a URL (`http:`, `https:`, `mailto:`, …) or a same-page `#anchor` against the
linking file's folder, ignoring a trailing `#anchor` or `?query`. Prints each broken
link as `file:line: target` and exits 1 if there is any; prints a summary and exits 0
otherwise. Standard library only.
"""

import glob
import os
import re
import sys
from urllib.parse import unquote

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
DEFAULT_FILES = ["README.md", "ARCHITECTURE.md", "BENCHMARKS.md", "docs/*.md"]

INLINE = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*(<[^>]*>|[^)\s]+)(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)")
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")


def links(path):
    """(line number, target) of every link in a Markdown file, code excluded."""
    fence = None
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            opening = FENCE.match(line)
            if fence:
                if opening and opening.group(1)[0] == fence[0] and len(opening.group(1)) >= len(fence):
                    fence = None
                continue
            if opening:
                fence = opening.group(1)
                continue
            text = CODE_SPAN.sub("", line)
            for match in INLINE.finditer(text):
                yield number, match.group(1)
            reference = REFERENCE.match(text)
            if reference:
                yield number, reference.group(1)


def broken(path, target):
    """Whether a link target of `path` fails to resolve (URLs and anchors never do)."""
    target = target.strip("<>")
    if not target or target.startswith("#") or SCHEME.match(target):
        return False
    file_part = unquote(re.split(r"[#?]", target, maxsplit=1)[0])
    if not file_part:
        return False
    if file_part.startswith("/"):
        resolved = os.path.join(ROOT, file_part.lstrip("/"))
    else:
        resolved = os.path.join(os.path.dirname(path), file_part)
    return not os.path.exists(resolved)


def main(argv):
    patterns = argv[1:] or DEFAULT_FILES
    files = []
    for pattern in patterns:
        matched = sorted(glob.glob(os.path.join(ROOT, pattern)))
        if not matched and not glob.has_magic(pattern):
            print(f"{pattern}: no such file")
            return 1
        files.extend(matched)
    checked = 0
    failures = []
    for path in files:
        for number, target in links(path):
            checked += 1
            if broken(path, target):
                failures.append(f"{os.path.relpath(path, ROOT)}:{number}: {target}")
    for failure in failures:
        print(failure)
    if failures:
        print(f"{len(failures)} broken of {checked} links in {len(files)} files")
        return 1
    print(f"{checked} links in {len(files)} files, none broken")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
