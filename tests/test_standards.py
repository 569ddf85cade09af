"""--standard end to end: the CLI, the API, seg eval, --jobs, unknown names."""

import json
import subprocess

import pytest
from conftest import DEV_LINES, SEG, cli_runner

from segcli import Segmenter, model, standards
from segcli.cli import main

SHIPPED = model.load()


def seg(*args, input=b""):
    return cli_runner().invoke(main, list(args), input=input)


def test_known_standards_have_descriptions():
    assert list(standards.STANDARDS) == ["pku", "weibo", "ctb", "sxu", "ud"]
    assert standards.describe("pku").startswith("Peking University") and standards.describe("other") == ""


def test_the_shipped_model_knows_every_standard():
    assert SHIPPED.standards == ("pku", "weibo", "ctb", "sxu", "ud")
    assert SHIPPED.default_standard == "pku" and SHIPPED.standard_input


@pytest.mark.parametrize("args", [["standards"], ["--standard", "list"]])
def test_standards_are_listed_with_descriptions(args):
    result = seg(*args)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == list(SHIPPED.standards)
    assert all(len(line.split()) > 2 for line in lines)


@pytest.mark.parametrize("standard", SHIPPED.standards)
def test_cli_api_and_jobs_agree_for_each_standard(standard, seg_env):
    text = "\n".join(DEV_LINES) + "\n"
    expected = "".join(" ".join(words) + "\n" for words in Segmenter(standard=standard).cut_lines(DEV_LINES))
    assert seg("--standard", standard, input=text.encode()).stdout == expected
    jobs = subprocess.run(SEG + ["--standard", standard, "--jobs", "2"], input=text.encode(), env=seg_env,
                          capture_output=True, timeout=120)
    assert jobs.returncode == 0 and jobs.stderr == b"", jobs.stderr
    assert jobs.stdout.decode() == expected
    jsonl = seg("--standard", standard, "--format", "jsonl", input=text.encode())
    assert [[t["word"] for t in json.loads(line)["tokens"]] for line in jsonl.stdout.splitlines()] == \
        [line.split() for line in expected.splitlines()]


@pytest.mark.parametrize("name, expected", [
    ("pku", "pku"), ("PKU", "pku"), ("Ctb", "ctb"), ("WEIBO", "weibo"), ("list", "list"), ("NOPE", "nope"),
    ("ＰＫＵ", "ＰＫＵ"), ("p\u212au", "p\u212au"),  # only ASCII letters fold: not full-width ones, not KELVIN SIGN
])
def test_canonical_names_fold_ascii_case(name, expected):
    assert standards.canonical(name) == expected


def test_standard_names_are_accepted_in_any_case(tmp_path, seg_env):
    text = "\n".join(DEV_LINES) + "\n"
    for upper in ("PKU", "Ctb"):
        expected = seg("--standard", upper.lower(), input=text.encode()).stdout
        assert seg("--standard", upper, input=text.encode()).stdout == expected
    assert seg("--standard", "LIST").stdout == seg("standards").stdout
    jobs = subprocess.run(SEG + ["-s", "CTB", "--jobs", "2"], input=text.encode(), env=seg_env, capture_output=True,
                          timeout=120)
    assert (jobs.returncode, jobs.stderr) == (0, b"")
    assert jobs.stdout.decode() == seg("--standard", "ctb", input=text.encode()).stdout
    gold = tmp_path / "gold.txt"
    gold.write_text("".join(" ".join(w) + "\n" for w in Segmenter(standard="ctb").cut_lines(DEV_LINES)),
                    encoding="utf-8")
    result = seg("eval", str(gold), "--standard", "CTB", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["f1"] == 1.0


def test_default_standard_is_pku():
    assert Segmenter().standard == "pku"
    assert Segmenter().cut(DEV_LINES[1]) == Segmenter(standard="pku").cut(DEV_LINES[1])


def test_standards_cut_differently_somewhere():
    cuts = {s: list(Segmenter(standard=s).cut_lines(DEV_LINES)) for s in ("pku", "ctb")}
    assert cuts["pku"] != cuts["ctb"]


@pytest.mark.parametrize("args", [["--standard", "nope"], ["eval", "--standard", "nope", "gold.txt"]])
def test_unknown_standard_is_a_usage_error_listing_the_valid_ones(args, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "gold.txt").write_text("迈向 充满 希望\n", encoding="utf-8")
    result = seg(*args, input=b"abc\n")
    assert result.exit_code == 2
    assert "unknown standard 'nope'" in result.stderr and "pku, weibo, ctb" in result.stderr


def test_unknown_standard_in_the_api():
    from segcli.errors import UnknownStandardError

    with pytest.raises(UnknownStandardError, match="pku"):
        Segmenter(standard="nope")


def test_eval_scores_by_the_standard(tmp_path):
    gold = tmp_path / "gold.txt"
    lines = list(Segmenter(standard="ctb").cut_lines(DEV_LINES))
    gold.write_text("".join(" ".join(w) + "\n" for w in lines), encoding="utf-8")
    result = seg("eval", str(gold), "--standard", "ctb", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["f1"] == 1.0
