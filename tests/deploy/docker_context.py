#!/usr/bin/env python3
"""Builds the Docker build context the way `docker build .` would send it
(.dockerignore applied), checks that every COPY source of the Dockerfile is
in it, and prints the build stage's cmake configure command for that copy.

  docker_context.py ROOT OUT     -> OUT/context, prints the cmake command

.dockerignore semantics (Docker's): patterns relative to the context root,
`*` and `?` within a path element, `**` across elements, a match on a
directory leaves out everything below it, `!` re-includes, the last matching
pattern wins.
"""
import pathlib
import re
import shlex
import shutil
import sys


def pattern_regex(pat):
    pat = pat.strip().lstrip("/")
    out, i = "", 0
    while i < len(pat):
        if pat.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif pat.startswith("**", i):
            out += ".*"
            i += 2
        elif pat[i] == "*":
            out += "[^/]*"
            i += 1
        elif pat[i] == "?":
            out += "[^/]"
            i += 1
        else:
            out += re.escape(pat[i])
            i += 1
    return re.compile(out + "$")


def load_ignore(root):
    rules = []
    path = root / ".dockerignore"
    for line in (path.read_text().splitlines() if path.exists() else []):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        neg = line.startswith("!")
        rules.append((neg, pattern_regex(line[1:] if neg else line)))
    return rules


def ignored(rel, rules):
    parts = rel.split("/")
    result = False
    for neg, rx in rules:
        # A pattern matching the path or one of its parents applies.
        if any(rx.match("/".join(parts[:n])) for n in range(1, len(parts) + 1)):
            result = not neg
    return result


def main():
    root, out = pathlib.Path(sys.argv[1]).resolve(), pathlib.Path(sys.argv[2])
    ctx = out / "context"
    rules = load_ignore(root)
    count = 0
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_dir() or ignored(rel, rules):
            continue
        dest = ctx / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, dest)
        count += 1
    text = re.sub(r"\\\n", " ", (root / "Dockerfile").read_text())
    missing = []
    for m in re.finditer(r"^COPY\s+(?!--from)(.*)$", text, re.M):
        *sources, _dest = shlex.split(m.group(1))
        for s in sources:
            if s != "." and not (ctx / s).exists():
                missing.append(s)
    if missing:
        print(f"COPY sources missing from the build context: {missing}", file=sys.stderr)
        return 1
    cm = re.search(r"cmake -S \S+ -B \S+ (.*?)\s*&&", text)
    if not cm:
        print("no cmake configure command in the Dockerfile", file=sys.stderr)
        return 1
    print(f"{count} files in the build context", file=sys.stderr)
    print(f"cmake -S {ctx} -B {out / 'build'} {cm.group(1).strip()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
