"""Azure Pipelines' logging commands: escaped as the agent unescapes them, nothing injected."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aml_promotion._azure_pipelines import (
    SUMMARY_NAME,
    AzurePipelines,
    command,
    escape,
    neutralize,
    parse_command,
    unescape,
)
from aml_promotion._github import Redactor


@given(st.text())
def test_escape_round_trips_through_the_agents_unescaping(text: str) -> None:
    """Whatever the value, the agent reads back exactly what was written."""
    assert unescape(escape(text)) == text


@given(st.text())
def test_an_escaped_value_has_no_character_the_agent_parses(text: str) -> None:
    """No newline, ";" or "]" survives escaping: a value stays inside its property."""
    escaped = escape(text)
    assert not {"\n", "\r", ";", "]"} & set(escaped)


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("50%", "50%AZP25"),
        ("a;b", "a%3Bb"),
        ("a]b", "a%5Db"),
        ("a\r\nb", "a%0D%0Ab"),
        ("%3B", "%AZP253B"),
    ],
)
def test_escape_uses_the_agents_own_escapes(text: str, escaped: str) -> None:
    """%AZP25 for "%" (first), %3B, %5D, %0D, %0A: the agent's mapping."""
    assert escape(text) == escaped


@given(name=st.text(), value=st.text())
def test_a_setvariable_command_is_one_line_read_back_whole(name: str, value: str) -> None:
    """A command with any property and data values parses to those values."""
    line = command("task.setvariable", value, variable=name or "x", isOutput="true")
    assert "\n" not in line
    assert "\r" not in line
    parsed = parse_command(line)
    assert parsed is not None
    assert parsed.name == "task.setvariable"
    assert parsed.properties == {"variable": name or "x", "isOutput": "true"}
    assert parsed.data == value


def test_neutralize_leaves_no_command_in_a_line() -> None:
    """A line with "##vso[" anywhere (or "##[") is broken up; the rest reads the same."""
    line = "auc ##vso[task.complete result=Failed]x and ##[error]boom"
    assert parse_command(line) is not None
    shown = neutralize(line)
    assert parse_command(shown) is None
    assert "##[" not in shown
    assert shown == "auc ## vso[task.complete result=Failed]x and ## [error]boom"


def pipeline(tmp_path: Path, *, active: bool = True) -> tuple[AzurePipelines, io.StringIO]:
    stream = io.StringIO()
    environ = {"AGENT_TEMPDIRECTORY": str(tmp_path)}
    if active:
        environ["TF_BUILD"] = "True"
    return AzurePipelines.from_environ(environ, stream, redact=Redactor(("s3cr3t!",))), stream


def test_outside_a_pipeline_nothing_is_written(tmp_path: Path) -> None:
    """Without TF_BUILD=True: no command, no summary file."""
    azure, stream = pipeline(tmp_path, active=False)
    azure.set_outputs({"promoted": "true"})
    azure.log_issue("error", "boom")
    assert azure.add_summary("# hi") is None
    azure.mask(["s3cr3t!"])
    assert stream.getvalue() == ""
    assert list(tmp_path.iterdir()) == []


def test_in_a_pipeline_outputs_issues_summary_and_secrets_are_commands(tmp_path: Path) -> None:
    """Output variables, an error issue, the uploaded summary, secrets redacted everywhere."""
    azure, stream = pipeline(tmp_path)
    azure.mask(["s3cr3t!"])
    azure.set_outputs({"promoted": "true", "decision": "a s3cr3t! b"})
    azure.log_issue("error", "failed with s3cr3t!")
    path = azure.add_summary("### PROMOTE\n\ns3cr3t!\n")
    assert path is not None
    assert path.name == SUMMARY_NAME
    assert path.read_text(encoding="utf-8") == "### PROMOTE\n\n***\n"
    parsed = [parse_command(line) for line in stream.getvalue().splitlines()]
    assert [(p.name, dict(p.properties), p.data) for p in parsed if p is not None] == [
        ("task.setsecret", {}, "s3cr3t!"),
        ("task.setvariable", {"variable": "promoted", "isOutput": "true"}, "true"),
        ("task.setvariable", {"variable": "decision", "isOutput": "true"}, "a *** b"),
        ("task.logissue", {"type": "error"}, "failed with ***"),
        ("task.uploadsummary", {}, str(path.resolve())),
    ]


def test_two_summaries_in_one_job_are_two_files(tmp_path: Path) -> None:
    """Each promotion's summary is a section of its own."""
    azure, _ = pipeline(tmp_path)
    first, second = azure.add_summary("one"), azure.add_summary("two")
    assert first is not None
    assert second is not None
    assert first != second


@pytest.mark.parametrize("value", ["true", "True", "TRUE"])
def test_tf_build_is_read_case_insensitively(value: str) -> None:
    """The agent sets TF_BUILD=True; any case counts."""
    azure = AzurePipelines.from_environ({"TF_BUILD": value}, io.StringIO())
    assert azure.active
    assert not AzurePipelines.from_environ({"TF_BUILD": "false"}, io.StringIO()).active


@pytest.mark.parametrize(
    "line",
    ["no command here", "##vso[task.setvariable variable=x", "##vso[nodot]x", "##vso[a.b.c]x"],
)
def test_lines_the_agent_would_not_act_on_parse_to_none(line: str) -> None:
    """No prefix, no closing bracket, or not exactly area.event: no command."""
    assert parse_command(line) is None


def test_a_property_without_a_value_is_skipped_as_the_agent_skips_it() -> None:
    """A property "type=" and a bare name are dropped; the other properties stay."""
    parsed = parse_command("##vso[task.logissue type=;bare;x=1]msg")
    assert parsed is not None
    assert dict(parsed.properties) == {"x": "1"}
