"""README.md runs as pasted: every fenced ``python`` and ``bash`` block.

- The python blocks of one ``##``/``###`` section run in order in one fresh namespace, in a
  subprocess whose working directory is a scratch copy of the repository's layout.
- A line ``<!-- readme: skip (reason) -->`` just before a block keeps it from running (the
  reason is required: a server, a GPU, a long run).
- A result written as a comment after an expression (``equivalent("1,000", "1000")  # True``,
  or the comment line below a call) is checked when the comment is a Python literal (or a
  literal followed by ``: explanation``), so the README's claimed outputs stay true.
- Bash blocks run with ``bash -e`` in such a scratch directory; ``<!-- readme: exit N (reason)
  -->`` expects exit status N. Every bash block, run or not, must parse (``bash -n``) and no
  line may end in ``\\\\`` (an escaped backslash, not a continuation).

Failures name the README line, the section and what went wrong.
"""

from __future__ import annotations

import ast
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tokenize
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
MARKER = re.compile(r"^<!--\s*readme:\s*(skip|exit)\b\s*(.*?)\s*-->\s*$")
FENCE = re.compile(r"^(\s*)```(\S*)\s*$")
TIMEOUT_S = 300


@dataclass
class Block:
    language: str
    line: int  # README line of the first code line
    code: str
    section: str
    skip: str | None = None  # the reason, when marked skip
    exit_status: int = 0

    @property
    def where(self) -> str:
        return f"README.md:{self.line} ({self.language} block in section {self.section!r})"


def readme_blocks(text: str) -> list[Block]:
    """The fenced blocks of ``text``, with their section and markers."""
    blocks: list[Block] = []
    lines = text.splitlines()
    section, i = "(top)", 0
    while i < len(lines):
        line = lines[i]
        fence = FENCE.match(line)
        if not fence:
            heading = re.match(r"^(#{2,3})\s+(.*)$", line)
            if heading:
                section = heading.group(2).strip()
            i += 1
            continue
        indent, language = fence.groups()
        start, i = i + 1, i + 1
        while i < len(lines) and lines[i].strip() != "```":
            i += 1
        code = "\n".join(text_line[len(indent) :] for text_line in lines[start:i]) + "\n"
        block = Block(language.lower(), start + 1, code, section)
        before = next((lines[k] for k in range(start - 2, -1, -1) if lines[k].strip()), "")
        marker = MARKER.match(before.strip())
        if marker:
            kind, rest = marker.groups()
            if kind == "skip":
                block.skip = rest.strip("() ") or "MISSING REASON"
            else:
                status = re.match(r"(\d+)", rest)
                block.exit_status = int(status.group(1)) if status else -1
        blocks.append(block)
        i += 1
    return blocks


BLOCKS = readme_blocks(README.read_text(encoding="utf-8"))


def python_sections() -> dict[str, list[Block]]:
    sections: dict[str, list[Block]] = {}
    for block in BLOCKS:
        if block.language == "python":
            sections.setdefault(block.section, []).append(block)
    return sections


def _ids(blocks):
    return [f"L{b.line}" for b in blocks]


def scratch_copy(tmp_path: Path) -> Path:
    """A working directory laid out like the repository: small folders copied (a command may
    write beside its input), code linked; ``../shared`` is the real shared data, if any."""
    work = tmp_path / "work"
    work.mkdir()
    for name in ("data", "docs"):
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, work / name)
    for name in ("recipes", "benchmarks", "rewardkit", "tests", "pyproject.toml"):
        if (ROOT / name).exists():
            (work / name).symlink_to(ROOT / name)
    shared = ROOT.parent / "shared"
    if shared.is_dir():
        (tmp_path / "shared").symlink_to(shared)
    return work


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.setdefault("MPLBACKEND", "Agg")
    return env


def _need_shared_data(code: str, work: Path) -> None:
    import pytest

    if "../shared/" in code and not (work.parent / "shared").is_dir():
        pytest.skip("the block reads ../shared/data, which is not on this machine")


# --------------------------------------------------------------------------- python blocks


def _check_python(section: str, blocks: list[Block], tmp_path: Path) -> None:
    import pytest

    runnable = [b for b in blocks if not b.skip]
    if not runnable:
        pytest.skip(f"every python block of {section!r} is marked skip")
    work = scratch_copy(tmp_path)
    for block in runnable:
        _need_shared_data(block.code, work)
    spec = tmp_path / "blocks.json"
    spec.write_text(json.dumps([{"line": b.line, "code": b.code} for b in runnable]))
    result = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), str(spec)],
        cwd=work,
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    if result.returncode != 0:
        pytest.fail(
            f"section {section!r}: {result.stdout.strip()}\n--- stderr (tail) ---\n"
            f"{result.stderr[-3000:]}",
            pytrace=False,
        )


def _expected(comment: str) -> str | None:
    """The source of the literal a result comment states, or ``None`` when it states none."""
    text = comment.lstrip("#").strip()
    for candidate in (text, text.split(": ", 1)[0]):
        try:
            ast.literal_eval(candidate)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
        return candidate
    return None


def _comments(code: str) -> dict[int, str]:
    out = {}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(code).readline):
            if tok.type == tokenize.COMMENT:
                out[tok.start[0]] = tok.string
    except (tokenize.TokenError, IndentationError):
        pass
    return out


def instrument(code: str, first_line: int) -> ast.Module:
    """``code`` parsed, with each expression statement whose result comment is a literal
    replaced by a check of that result; line numbers are the README's."""
    tree = ast.parse(code, filename="README.md")
    comments = _comments(code)
    lines = code.splitlines()
    body = []
    for node in tree.body:
        expected = None
        if isinstance(node, ast.Expr):
            end = node.end_lineno
            if end in comments:
                expected = _expected(comments[end])
            elif end < len(lines) and lines[end].strip().startswith("#"):
                expected = _expected(lines[end].strip())
        if expected is None:
            body.append(node)
            continue
        value = node.value
        if (
            isinstance(value, ast.Call)
            and isinstance(value.func, ast.Name)
            and value.func.id == "print"
            and len(value.args) == 1
        ):
            body.append(node)  # still print, and check what was printed
            value = value.args[0]
        check = ast.Expr(
            ast.Call(
                ast.Name("__readme_check__", ast.Load()),
                [
                    value,
                    ast.parse(expected, mode="eval").body,
                    ast.Constant(ast.unparse(value)),
                ],
                [],
            )
        )
        body.append(ast.copy_location(check, node))
    tree.body = body
    ast.fix_missing_locations(tree)
    ast.increment_lineno(tree, first_line - 1)
    return tree


def _same(got, expected) -> bool:
    try:
        if got == expected:
            return True
    except Exception:
        pass
    return repr(got) == repr(expected)


def _readme_check(got, expected, source: str) -> None:
    if not _same(got, expected):
        raise AssertionError(f"{source} gives {got!r}, the README says {expected!r}")


def run_blocks(spec_path: str) -> int:
    """The subprocess: run the blocks of one section in one namespace."""
    import traceback

    blocks = json.loads(Path(spec_path).read_text())
    if any("rewardkit" in block["code"] for block in blocks):
        # start the verifier's worker first: on a loaded machine its start-up alone can
        # exceed a comparison's 5 s deadline, and the first symbolic answer would time out
        from rewardkit.verify import verify

        verify(r"\boxed{\sqrt{2}}", r"\sqrt 2", timeout=120)
    namespace = {"__name__": "__readme__", "__readme_check__": _readme_check}
    for block in blocks:
        try:
            code = compile(instrument(block["code"], block["line"]), "README.md", "exec")
            exec(code, namespace)  # the README's own code, not model output
        except BaseException as exc:  # report every failure with its README line
            frames = [
                f for f in traceback.extract_tb(exc.__traceback__) if f.filename == "README.md"
            ]
            line = frames[-1].lineno if frames else getattr(exc, "lineno", None) or block["line"]
            print(
                f"README.md:{line} (block from line {block['line']}): {type(exc).__name__}: {exc}"
            )
            traceback.print_exc()
            return 1
    return 0


# --------------------------------------------------------------------------- the tests

import pytest  # noqa: E402  (the subprocess above needs none of pytest)

SECTIONS = python_sections()
BASH = [b for b in BLOCKS if b.language in ("bash", "sh", "shell", "console")]
BASH_RUN = [b for b in BASH if not b.skip]


def test_the_readme_has_blocks_and_every_skip_says_why():
    assert SECTIONS and BASH, "no python or bash blocks found in README.md"
    unexplained = [b.where for b in BLOCKS if b.skip == "MISSING REASON"]
    assert not unexplained, f"skip markers without a reason: {unexplained}"
    bad_exit = [b.where for b in BLOCKS if b.exit_status < 0]
    assert not bad_exit, f"exit markers without a status: {bad_exit}"


@pytest.mark.parametrize("section", sorted(SECTIONS), ids=lambda s: s[:40])
def test_python_blocks_of_a_section_run_in_order(section, tmp_path):
    _check_python(section, SECTIONS[section], tmp_path)


@pytest.mark.parametrize("block", BASH, ids=_ids(BASH))
def test_bash_block_parses_and_continues_its_lines(block):
    for offset, line in enumerate(block.code.splitlines()):
        assert not line.rstrip().endswith("\\\\"), (
            f"README.md:{block.line + offset}: the line ends with '\\\\' (an escaped "
            "backslash, so the next line is a new command); end it with one '\\'"
        )
    result = subprocess.run(["bash", "-n"], input=block.code, capture_output=True, text=True)
    assert result.returncode == 0, f"{block.where} does not parse: {result.stderr}"


@pytest.mark.parametrize("block", BASH_RUN, ids=_ids(BASH_RUN))
def test_bash_block_runs(block, tmp_path):
    if re.search(r"\bpip\s+install\b", block.code):  # never touch the environment under test
        pytest.fail(f"{block.where} installs packages: mark it <!-- readme: skip (reason) -->")
    work = scratch_copy(tmp_path)
    _need_shared_data(block.code, work)
    result = subprocess.run(
        ["bash", "-e", "-c", block.code],
        cwd=work,
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    assert result.returncode == block.exit_status, (
        f"{block.where} exited {result.returncode}, expected {block.exit_status}\n"
        f"--- stdout (tail) ---\n{result.stdout[-2000:]}\n--- stderr (tail) ---\n"
        f"{result.stderr[-3000:]}"
    )


def test_instrumentation_checks_literal_results_and_reports_readme_lines(tmp_path):
    code = "x = 2\nx + 1  # 3\nx * 2\n# 5\nprint(x)  # 2\nx  # not a literal\n"
    spec = tmp_path / "blocks.json"
    spec.write_text(json.dumps([{"line": 40, "code": code}]))
    result = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), str(spec)],
        capture_output=True,
        text=True,
        env=_environment(),
        timeout=120,
    )
    assert result.returncode == 1
    assert "README.md:42" in result.stdout and "x * 2 gives 4, the README says 5" in result.stdout
    blocks = readme_blocks("## A\n<!-- readme: skip (needs a GPU) -->\n```python\n1\n```\n")
    assert (blocks[0].skip, blocks[0].section, blocks[0].line) == ("needs a GPU", "A", 4)


if __name__ == "__main__":
    sys.exit(run_blocks(sys.argv[1]))
