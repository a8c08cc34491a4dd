"""README.md and docs/*.md refer only to what exists (no Spark: this runs in a second).

- Every repository path named in an inline code span or a link exists, relative to the repository
  root (links: relative to the page, as a reader's browser resolves them; a `#anchor` into a page
  must name one of its headings). Paths in shell code blocks are checked when they start with one of
  the repository's own folders. Ignored: absolute paths, URLs, globs, placeholders (`<...>`, `...`)
  and what the repository does not hold by design: the folders `.gitignore` lists (`var/`, `.venv/`,
  ...) and `out/`, the example output folder of `c2c link`.
- Every `c2c` command line in a shell code block parses with the CLI's own parser, as typed. A `c2c`
  command in an inline code span names a command and some of its options: it must parse too, except
  that options the command requires may be left out (`c2c link` is the name of a command).
  Lines with placeholders are skipped.
- README.md stays a page for users: at most 200 lines, linking to every page under docs/.
- No page tells how the project was developed: pages describe the product as it is, and
  docs/benchmarks.md gives every figure the date and commit that produced or recorded it. `HISTORY`
  lists the phrases that tell such a story, and a phrase broken across two lines counts.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest

from jobs.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
README_MAX_LINES = 200

SHELL_BLOCKS = {"", "sh", "bash", "shell", "console", "cron"}
FENCE = re.compile(r"^\s*(```+|~~~+)\s*([\w+-]*)")
SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.DOTALL)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
PLACEHOLDER = re.compile(r"<[^<>]+>|\.\.\.|…")
PATHLIKE = re.compile(r"^[\w.-]+(?:/[\w.-]*)+$")
SHELL_OPERATOR = re.compile(r"^(?:&&|\|\||\||;|\d*>>?.*|<.*)$")
# Phrases of a development story: a stage of development by its number, a fix or a rule change as an
# event, a superseded run, a figure without its date or commit. "used to" after a form of "be" ("is used
# to derive") describes the product, and "was replaced" without "by" is a file's version being replaced.
HISTORY = re.compile(
    r"\b(?:session|round) \d+\b|\bsince session\b|\bbefore the \w+ fix\b"
    r"|(?<!\bis )(?<!\bare )(?<!\bbe )(?<!\bbeen )(?<!\bbeing )(?<!\bwas )(?<!\bwere )\bused to\b"
    r"|\b(?:was|were|has been|have been|had been) replaced by\b"
    r"|\bpreviously\b|\bof that time\b|\bon earlier code\b|\bnot recorded\b|\bpredates? the current\b",
    re.IGNORECASE,
)


def _generated_folders() -> set[str]:
    """Top-level folders that are outputs, not sources: those .gitignore lists, and `out/`."""
    folders = {"out"}
    for line in (ROOT / ".gitignore").read_text().splitlines():
        line = line.strip()
        if line.endswith("/") and "*" not in line and not line.startswith("#"):
            folders.add(line.strip("/"))
    return folders


GENERATED = _generated_folders()


@dataclass(frozen=True)
class Page:
    path: Path
    prose: str  # the page with its fenced code blocks blanked out (line numbers kept)
    blocks: list[tuple[str, int, list[str]]]  # (info string, first line number, lines)


def read_page(path: Path, text: str | None = None) -> Page:
    text = path.read_text() if text is None else text
    prose: list[str] = []
    blocks: list[tuple[str, int, list[str]]] = []
    fence: str | None = None
    for number, line in enumerate(text.splitlines(), 1):
        opened = FENCE.match(line)
        if fence is None and opened:
            fence = opened.group(1)
            blocks.append((opened.group(2).lower(), number + 1, []))
            prose.append("")
        elif fence is not None:
            if line.strip().startswith(fence) and not line.strip().strip(fence[0]):
                fence = None
            else:
                blocks[-1][2].append(line)
            prose.append("")
        else:
            prose.append(line)
    return Page(path, "\n".join(prose), blocks)


def spans(page: Page) -> list[tuple[int, str]]:
    """Inline code spans of the prose, whitespace collapsed, with their line numbers."""
    found = []
    for match in SPAN.finditer(page.prose):
        content = match.group(2)
        if "\n\n" in content:
            continue
        found.append((page.prose.count("\n", 0, match.start()) + 1, " ".join(content.split())))
    return found


def shell_lines(page: Page) -> list[tuple[int, str]]:
    """Logical lines of the shell code blocks (continuations joined), with their line numbers."""
    lines = []
    for info, first, block in page.blocks:
        if info not in SHELL_BLOCKS:
            continue
        pending, start = "", first
        for offset, line in enumerate(block):
            if not pending:
                start = first + offset
            if line.rstrip().endswith("\\"):
                pending += line.rstrip()[:-1] + " "
                continue
            lines.append((start, pending + line))
            pending = ""
        if pending:
            lines.append((start, pending))
    return lines


def words(line: str) -> list[str]:
    """Shell words of a line, up to a comment; [] when it cannot be split."""
    lexer = shlex.shlex(line, posix=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        tokens = list(lexer)
    except ValueError:
        return []
    for i, token in enumerate(tokens):
        if token.startswith("#"):
            return tokens[:i]
    return tokens


def c2c_arguments(line: str) -> list[str] | None:
    """The arguments of the `c2c` command on a line (None when it runs none, or shows a placeholder)."""
    tokens = words(line)
    if any(PLACEHOLDER.search(token) for token in tokens):
        return None
    for i, token in enumerate(tokens):
        if token == "c2c" or token.endswith("bin/c2c"):
            arguments = []
            for argument in tokens[i + 1 :]:
                if SHELL_OPERATOR.match(argument):
                    break
                arguments.append(argument)
            return arguments
    return None


def _relaxed(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The parser with every option optional, subcommands included (the command itself stays
    required): what an inline mention of a command is checked against."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _relaxed(sub)
        elif action.option_strings:
            action.required = False
    return parser


def parse_error(arguments: list[str], *, relaxed: bool = False) -> str | None:
    parser = _relaxed(build_parser()) if relaxed else build_parser()
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            parser.parse_args(arguments)
    except SystemExit as stop:
        return stderr.getvalue().strip().splitlines()[-1] if stderr.getvalue().strip() else f"exit {stop}"
    return None


def command_problems(page: Page) -> list[str]:
    problems = []
    for number, line in shell_lines(page):
        arguments = c2c_arguments(line)
        if arguments is not None:
            error = parse_error(arguments)
            if error:
                problems.append(f"{page.path.name}:{number}: {line.strip()!r}: {error}")
    for number, span in spans(page):
        arguments = c2c_arguments(span)
        if arguments:  # a bare `c2c` is the program's name
            error = parse_error(arguments, relaxed=True)
            if error:
                problems.append(f"{page.path.name}:{number}: `{span}`: {error}")
    return problems


def _repo_path(token: str) -> str | None:
    """`token` as a repository path to check, or None when it is not one (or is ignored)."""
    token = token.lstrip("([\"'").rstrip(")],;:.'\"")
    if token.startswith("./"):
        token = token[2:]
    if "://" in token or PLACEHOLDER.search(token) or any(c in token for c in "*?{}$=~"):
        return None
    if token.startswith(("/", "../")) or not PATHLIKE.match(token):
        return None
    if token.split("/", 1)[0] in GENERATED:
        return None
    return token


def slugs(path: Path) -> set[str]:
    """GitHub's anchors of a page's headings."""
    found: set[str] = set()
    for line in read_page(path).prose.splitlines():
        heading = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if heading:
            slug = re.sub(r"[^\w\- ]", "", heading.group(1).lower()).replace(" ", "-")
            candidate, n = slug, 0
            while candidate in found:
                n += 1
                candidate = f"{slug}-{n}"
            found.add(candidate)
    return found


def path_problems(page: Page) -> list[str]:
    problems = []
    for number, span in spans(page):
        for token in span.split():
            path = _repo_path(token)
            if path and not (ROOT / path).exists():
                problems.append(f"{page.path.name}:{number}: `{path}` does not exist")
    top_level = {p.name for p in ROOT.iterdir() if p.is_dir() and p.name not in GENERATED}
    for number, line in shell_lines(page):
        for token in words(line):
            path = _repo_path(token)
            if path and path.split("/", 1)[0] in top_level and not (ROOT / path).exists():
                problems.append(f"{page.path.name}:{number}: {path} does not exist")
    for match in LINK.finditer(page.prose):
        target = match.group(1)
        number = page.prose.count("\n", 0, match.start()) + 1
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        linked = (page.path.parent / file_part).resolve() if file_part else page.path
        if not linked.exists():
            problems.append(f"{page.path.name}:{number}: link {target} does not exist")
        elif anchor and linked.suffix == ".md" and anchor not in slugs(linked):
            problems.append(f"{page.path.name}:{number}: link {target}: no heading #{anchor}")
    return problems


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_named_paths_exist(path: Path) -> None:
    problems = path_problems(read_page(path))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_c2c_commands_parse(path: Path) -> None:
    problems = command_problems(read_page(path))
    assert not problems, "\n".join(problems)


def history_hits(name: str, text: str) -> list[str]:
    """The lines on which a `HISTORY` phrase starts, the next line joined on so that a phrase broken
    across two lines is found too."""
    lines = text.splitlines()
    hits = []
    for n, line in enumerate(lines, 1):
        line = line.rstrip()
        following = lines[n].strip() if n < len(lines) else ""
        if any(m.start() < len(line) for m in HISTORY.finditer(f"{line} {following}")):
            hits.append(f"{name}:{n}: {line.strip()}")
    return hits


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_development_history(path: Path) -> None:
    hits = history_hits(path.name, path.read_text())
    assert not hits, "\n".join(hits)


def test_the_history_check_finds_what_it_should() -> None:
    """Each kind of story is caught, across a line break too; the product's own uses of the words are not."""
    # Line 1 is formatted, so that scans of the repository for such phrases do not flag this sample.
    first = "Measured in session %d, before the twin fix.\n" % 9  # noqa: UP031
    bad = first + (
        "The full-name rule was replaced by two narrower ones.\n"  # 2
        "Identity used to block on the full name.\n"  # 3
        "It previously ran out of memory; the blocking rules of that\n"  # 4 (the phrase ends on line 5)
        "time made 29 million pairs.\n"  # 5
        "A's 18.9 GB is summed RSS, on earlier code.\n"  # 6
        "`benchmarks/generate.py`; date and commit not\n"  # 7 (the phrase ends on line 8)
        "recorded.\n"  # 8
        "These figures predate the current attachment rules.\n"  # 9
    )
    assert [hit.split(":")[1] for hit in history_hits("bad.md", bad)] == ["1", "2", "3", "4", "6", "7", "9"]
    good = (
        "The key is used to derive the tokens, and can be used to check them.\n"
        "Content sent again after it was replaced is the file's version once more.\n"
        "Staging folders of runs no longer alive are removed; the local paths are replaced by their copies.\n"
        "Figures recorded in commit 910cab5 on 2026-11-29. The clustering runs in rounds.\n"
    )
    assert history_hits("good.md", good) == []


def test_readme_is_short_and_links_every_page() -> None:
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= README_MAX_LINES
    linked = {m.group(1).partition("#")[0] for m in LINK.finditer(read_page(ROOT / "README.md").prose)}
    missing = [p.name for p in PAGES[1:] if f"docs/{p.name}" not in linked]
    assert not missing, f"README.md links to no {missing}"


def test_the_checker_finds_what_it_should() -> None:
    """The checks are not vacuous: README shows commands and paths, and a bad reference is caught."""
    readme = read_page(ROOT / "README.md")
    assert sum(c2c_arguments(line) is not None for _, line in shell_lines(readme)) >= 2
    assert any(_repo_path(t) for _, s in spans(readme) for t in s.split())
    bad = read_page(
        ROOT / "docs" / "example.md",
        "See `lakehouse/nowhere.py`, `var/lake/x` and [a](missing.md), [b](link.md#no-such-heading).\n"
        "Run `c2c run --bogus`, `c2c link` or `c2c tables --json`.\n"
        "```sh\n.venv/bin/c2c link --left a.csv --out x/   # no --id\n"
        "c2c generate --persons <N>\nC2C_ENV=cluster c2c submit --dry-run \\\n  --python python3.11\n```\n",
    )
    paths = path_problems(bad)
    assert [p.split(": ", 1)[1] for p in paths] == [
        "`lakehouse/nowhere.py` does not exist",
        "link missing.md does not exist",
        "link link.md#no-such-heading: no heading #no-such-heading",
    ]
    commands = command_problems(bad)
    assert len(commands) == 2
    assert "--id" in commands[0] and "--bogus" in commands[1]
