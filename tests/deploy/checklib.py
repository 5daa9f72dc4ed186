"""Shared by the check_*.py scripts: ok/FAIL lines, the binary's flags
(parsed from `sipresolverd --help`, the only source of flag names and
defaults), container arguments and Abseil durations."""
import pathlib
import re

FAILURES = []


def ok(msg):
    print(f"  ok   {msg}")


def fail(msg):
    print(f"  FAIL {msg}")
    FAILURES.append(msg)


def expect(cond, msg):
    (ok if cond else fail)(msg)
    return cond


# --- the binary's flags ----------------------------------------------------------

def parse_help(path):
    """{flag: default string} from `sipresolverd --help`."""
    text = pathlib.Path(path).read_text()
    flags = {}
    for m in re.finditer(r"--([a-z0-9_]+) \(.*?\);\s+default: (.*?);", text, re.S):
        default = m.group(2).strip()
        if default.startswith('"') and default.endswith('"'):
            default = default[1:-1]
        flags[m.group(1)] = default
    if len(flags) < 10:
        raise SystemExit(f"{path}: found only {len(flags)} flags; is it `sipresolverd --help`?")
    return flags


def parse_args(args):
    """["--a=b", ...] -> [(name, value)]; None for a malformed argument."""
    out = []
    for a in args:
        m = re.fullmatch(r"--([a-z0-9_]+)=(.*)", a, re.S)
        out.append((m.group(1), m.group(2)) if m else (None, a))
    return out


def port_of(hostport):
    m = re.fullmatch(r"(\[[^\]]*\]|[^:\[\]]*):(\d+)", hostport)
    return int(m.group(2)) if m else None


DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)")
UNIT = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}


def seconds(text):
    """Abseil duration ("1m30s", "0", "inf") in seconds."""
    if text in ("0", ""):
        return 0.0
    if text == "inf":
        return float("inf")
    parts = DURATION.findall(text)
    if "".join(n + u for n, u in parts) != text:
        raise ValueError(f"not a duration: {text}")
    return sum(float(n) * UNIT[u] for n, u in parts)


def check_flags(where, args, flags):
    """Every argument is --known_flag=value."""
    bad = [a for (n, a) in parse_args(args) if n is None]
    unknown = [n for (n, _) in parse_args(args) if n is not None and n not in flags]
    expect(not bad, f"{where}: every argument has the form --flag=value" +
           (f" (not: {bad})" if bad else ""))
    expect(not unknown, f"{where}: {len(args)} arguments, every flag is in `sipresolverd --help`" +
           (f" (unknown: {unknown})" if unknown else ""))


