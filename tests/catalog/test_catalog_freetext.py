"""`scalesim advise "free text"` and `advise --spec`: the question table scored, how a
description is read (numbers, negation, names), and the commands' output."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from typer.testing import CliRunner

from scalesim.catalog import Catalog, load_catalog
from scalesim.catalog.cues import covered, fragments, negative_cues, negatives
from scalesim.catalog.decision import load_trees
from scalesim.catalog.freetext import advise_text, negating_names, rejected
from scalesim.catalog.in_spec import implemented, set_in
from scalesim.catalog.retrieval import everything, index
from scalesim.catalog.search import search
from scalesim.catalog.text import expand, stems, terms
from scalesim.cli import app as main_app
from scalesim.cli import patterns as cli
from scalesim.lint import lint_system
from scalesim.spec import SpecError, load_spec_text
from scalesim.templates import get_template, load_built

QUESTIONS = yaml.safe_load((Path(__file__).parent / "questions.yaml").read_text("utf-8"))
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
REQUIRED_HITS = 36

app = typer.Typer()
app.add_typer(cli.patterns_app, name="patterns")
app.command("advise")(cli.advise_command)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def test_the_question_table_is_well_formed(catalog: Catalog) -> None:
    assert len(QUESTIONS) == 69
    assert len({q["ask"] for q in QUESTIONS}) == 69
    for question in QUESTIONS:
        assert question["expect"] and all(pid in catalog for pid in question["expect"])
        assert set(question) <= {"ask", "expect", "must", "forbid"}
        assert set(question.get("must", [])) <= set(question["expect"])
        assert not set(question.get("forbid", [])) & set(question["expect"])
        assert all(pid in catalog for pid in question.get("forbid", []))


def score(name: str, answer: Callable[[str], list[str]]) -> None:
    """Print how many questions have an expected pattern in `answer`'s top five, and hold
    it to REQUIRED_HITS."""
    hits, misses = 0, []
    for question in QUESTIONS:
        got = answer(question["ask"])[:5]
        if set(got) & set(question["expect"]):
            hits += 1
        else:
            misses.append(f"  {question['ask']!r}: got {got}, expected one of "
                          f"{question['expect']}")
    print(f"\n{name} score: {hits}/{len(QUESTIONS)} questions hit in the top 5"
          + ("".join(f"\n{m}" for m in misses)))
    assert hits >= REQUIRED_HITS, "\n".join(misses)


def test_the_questions_hit_the_advisors_top_five(catalog: Catalog) -> None:
    trees = load_trees()
    score("advisor", lambda ask: [s.id for s in advise_text(catalog, trees, ask).suggestions])


@pytest.mark.parametrize("question", [q for q in QUESTIONS if "must" in q or "forbid" in q],
                         ids=lambda q: q["ask"])
def test_no_suggestion_or_diagnosis_rests_on_one_shared_word(
        catalog: Catalog, question: dict[str, Any]) -> None:
    """A rare word shared by chance ('catalog' in a registry's alias, 'heavy' in 'read-heavy',
    'writes' for read replicas, 'version' for an ML pattern) must not carry a pattern into
    the answer, and the patterns the question is about must be there."""
    advice = advise_text(catalog, load_trees(), question["ask"])
    suggested = [s.id for s in advice.suggestions][:5]
    named = set(suggested) | {d.id for d in advice.diagnoses}
    assert not named & set(question.get("forbid", [])), (suggested, advice.diagnoses)
    assert set(question.get("must", [])) <= set(suggested), suggested
    assert set(suggested) & set(question["expect"]), suggested


def test_the_questions_hit_the_searchs_top_five(catalog: Catalog) -> None:
    score("search", lambda ask: [hit.id for hit in search(catalog, ask, limit=5)])


@pytest.mark.parametrize(("ask", "first", "not_in_five"), [
    ("Zero-downtime deploys", {"blue-green-deployment", "canary-release"},
     "zero-trust-architecture"),
    ("Exactly-once payment processing", {"idempotent-receiver", "deduplication"},
     "leader-election"),
    ("Consumers are falling behind on the order queue", {"competing-consumers"},
     "unbounded-result-sets"),
])
def test_the_words_people_use_lead_first_to_the_answer(
        catalog: Catalog, ask: str, first: set[str], not_in_five: str) -> None:
    """'Zero-downtime' is about releases, not zero trust; 'exactly once' about deduplicating
    receivers, not the 'exactly one' leader; consumers 'falling behind' want more consumers
    (synonyms.yaml). Each used to lead with an unrelated pattern."""
    suggested = [s.id for s in advise_text(catalog, load_trees(), ask).suggestions][:5]
    assert suggested[0] in first and not_in_five not in suggested, suggested


def test_search_lends_an_anti_patterns_score_to_its_fixes(catalog: Catalog) -> None:
    hits = {hit.id: hit for hit in search(catalog, "retry storm after an outage", limit=20)}
    assert "retry-storm" in hits
    fixes = catalog["retry-storm"].anti_pattern.fixed_by  # type: ignore[union-attr]
    lent = [hits[fix] for fix in fixes if fix in hits]
    assert lent and any("fixes retry-storm" in hit.matched for hit in lent)


def test_advice_names_the_diagnosis_families_and_questions(catalog: Catalog) -> None:
    advice = advise_text(catalog, load_trees(), "Retries make every outage worse")
    assert "retry-storm" in [d.id for d in advice.diagnoses]
    assert advice.suggestions[0].score == 1.0
    assert "availability" in advice.families
    assert advice.questions and all(q.command.startswith("scalesim advise --tree ")
                                    for q in advice.questions)
    assert advise_text(catalog, load_trees(), "the of and").suggestions == []


def run(*args: str, code: int = 0, app_: typer.Typer = app) -> Any:
    result = CliRunner().invoke(app_, list(args))
    assert result.exit_code == code, result.output
    return result


def test_advise_takes_free_text() -> None:
    advice = json.loads(run("advise", "migrate a monolith to microservices", "--json").stdout)
    assert advice["suggestions"][0]["id"] == "strangler-fig"
    assert "migration" in advice["families"]
    assert any(q["tree"] == "migration" for q in advice["questions"])
    text = run("advise", "my service times out under load").stdout
    for part in ("Searched for", "timeout", "Recommended", "scalesim advise --tree"):
        assert part in text
    assert "empty" in run("advise", "  ", code=2).output
    assert "one of" in run("advise", "slow", "--tree", "scaling", code=2).output


def test_negative_cues_name_catalog_patterns(catalog: Catalog) -> None:
    assert set(negative_cues()) <= set(catalog.ids)
    assert negatives("read-replicas", expand("multi-region writes")) == 1
    assert negatives("read-replicas", expand("reads dominate")) == 0
    assert negatives("read-replicas", expand("reads are 100x writes")) == 0
    assert negatives("cache-aside", expand("the database cannot keep up with writes")) == 1


def test_advise_spec_gives_both_loads_and_skips_what_the_design_does(tmp_path: Path) -> None:
    """A work queue with one worker replica of 8 blocking workers: the subscription takes 8
    at once × 20 ms = 400/s off the queue, sustained (1200/s published) and at the peak
    (2400/s), so the worker is sized as SS402 sizes it: 1200 × 20 ms / 0.8 = 30 in flight
    (4 replicas of 8), 2400 × 20 ms / 0.8 = 60 (8 replicas and concurrency 60, past its 32);
    and the advice does not recommend queue-based load levelling to a design that is one."""
    spec = tmp_path / "wq.yaml"
    run("new", "work-queue", "-o", str(spec), app_=main_app)
    text = spec.read_text("utf-8").replace("    replicas: 4\n", "    replicas: 1\n", 1)
    spec.write_text(text, "utf-8")
    review = json.loads(run("advise", "--spec", str(spec), "--json").stdout)
    worker, jobs = review["components"]["worker"], review["components"]["jobs"]
    assert worker["load"] == "peak"
    assert jobs["arrival_rate_rps"] == pytest.approx(2 * jobs["sustained_arrival_rate_rps"])
    assert worker["arrival_rate_rps"] == pytest.approx(8 / 0.020)
    assert worker["sustained_change"] == "30 at once off 'jobs': 'worker' 4 replicas"
    assert worker["change"] == "60 at once off 'jobs': 'worker' 8 replicas and concurrency 60"
    assert {"queue-based-load-leveling", "competing-consumers"} <= set(review["implemented"])
    ids = [c["id"] for c in review["changes"]]
    assert "queue-based-load-leveling" not in ids and "auto-scaling" in ids
    lines = " ".join(run("advise", "--spec", str(spec)).stdout.split())
    assert "sustained" in lines and "peak" in lines
    # SS402 at the sustained 1200/s: 1200 × 20 ms / 0.8 = 30 in flight, 4 replicas of 8
    assert "30 at once keep it 80% busy: 'worker' 4 replicas" in lines


def test_advise_spec_sizes_a_consumer_by_what_it_takes_off_the_queue(tmp_path: Path) -> None:
    """With 8 worker replicas the peak's 2400/s is still drained at concurrency 32 × 20 ms
    = 1600/s: more replicas take no more off the queue; 2400 × 20 ms / 0.8 = 60 in flight
    do, and 8 × 8 workers already hold them."""
    spec = tmp_path / "wq.yaml"
    run("new", "work-queue", "-o", str(spec), app_=main_app)
    text = spec.read_text("utf-8").replace("    replicas: 4\n", "    replicas: 8\n", 1)
    spec.write_text(text, "utf-8")
    worker = json.loads(run("advise", "--spec", str(spec), "--json").stdout)[
        "components"]["worker"]
    assert worker["arrival_rate_rps"] == pytest.approx(32 / 0.020)
    assert worker["change"] == "60 at once off 'jobs': concurrency 60"


def test_advise_spec_counts_what_a_rate_limit_admits(tmp_path: Path) -> None:
    """The api-gateway template limits each workload to 1500/s: web 1200 + mobile 800 +
    scraper min(4500, 1500) = 3500/s admitted × 1.3 ms over 2 × 4 workers, ρ 0.57: 2
    replicas, where all 6500/s would be ρ 1.06."""
    spec = tmp_path / "gw.yaml"
    run("new", "api-gateway", "-o", str(spec), app_=main_app)
    gateway = json.loads(run("advise", "--spec", str(spec), "--json").stdout)[
        "components"]["gateway"]
    assert gateway["arrival_rate_rps"] == pytest.approx(3500.0)
    assert gateway["rho"] == pytest.approx(3500 * 0.0013 / 8)
    assert gateway["change"] == "2 replicas"


def test_advise_spec_runs_a_closed_loop_at_what_it_gets_through(tmp_path: Path) -> None:
    """1000 users thinking 100 ms on 4 workers of 10 ms would send 1000 / 110 ms = 9091/s
    if nothing queued; they wait for their answers, so the loop runs at the 4 / 10 ms =
    400/s the workers serve (MVA), ρ 1. More replicas raise the loop's rate with them
    (lint sizes by the loop's own law, docs/lint.md), towards 9091/s: 9091 × 10 ms /
    (0.8 × 4) = 28.4 replicas at that bound; by MVA 28 leave ρ 0.81 and 29 ρ 0.78."""
    spec = tmp_path / "closed.yaml"
    spec.write_text("scalesim: 1\nname: closed\ncomponents:\n"
                    "  a: {replicas: 1, workers: 4, operations: {x: {work: 10ms}}}\n"
                    "workloads: [{name: w, to: a.x, users: 1000, think: 100ms}]\n", "utf-8")
    a = json.loads(run("advise", "--spec", str(spec), "--json").stdout)["components"]["a"]
    assert a["arrival_rate_rps"] == pytest.approx(400.0, rel=1e-3)
    assert a["rho"] == pytest.approx(1.0, rel=1e-3)
    assert a["change"] == "29 replicas"


def test_advise_reviews_a_spec() -> None:
    spec = str(EXAMPLES / "retry-storm.yaml")
    review = json.loads(run("advise", "--spec", spec, "--json").stdout)
    assert review["components"]["api"]["rho"] == pytest.approx(1.05)
    assert {"SS501", "SS204"} <= {f["rule"] for f in review["findings"]}
    top = [c["id"] for c in review["changes"][:4]]
    assert "auto-scaling" in top  # the error outweighs the warnings
    text = run("advise", "--spec", spec).stdout
    assert "What to change" in text and "SS501" in text and "ρ" in text
    assert "cannot read" in run("advise", "--spec", "/nonexistent.yaml", code=2).output


@pytest.mark.parametrize(("template", "present"), [
    ("dead-letter-queue", {"dead-letter-channel", "competing-consumers"}),
    ("sharded-service", {"sharding", "consistent-hashing", "load-balancing"}),
    ("outbox", {"transactional-outbox", "idempotent-receiver", "deduplication"}),
    ("saga-orchestration", {"saga", "orchestration"}),
    ("saga-choreography", {"saga", "choreography"}),
    ("canary", {"canary-release"}),
    ("blue-green", {"blue-green-deployment"}),
    ("cache-aside", {"cache-aside"}),
    ("event-sourcing", {"event-sourcing", "materialized-view"}),
    ("leader-election", {"leader-election"}),
    ("replicated-database", {"tunable-consistency"}),
    ("ambassador", {"failover", "timeout"}),  # its retry has no backoff: failover only
])
def test_advise_spec_knows_the_mechanisms_a_template_already_has(
        template: str, present: set[str]) -> None:
    """Every setting that is a catalog pattern counts as implemented (a queue's `dead_letter`
    is a dead-letter channel, a hash balancer over database replicas is sharding), so the
    advice does not recommend it back; each of these templates used to be advised one."""
    assert present <= implemented(load_built(get_template(template).build(None)))


@pytest.mark.parametrize(("w", "r", "majority"), [(1, 1, False), (2, 1, False), (2, 2, True),
                                                  (3, 1, True)])
def test_a_quorum_is_a_majority_quorum_only_when_reads_and_writes_overlap(
        w: int, r: int, majority: bool) -> None:
    """replicated-database's n: 3 with its own W and R is tunable consistency; it is a
    majority quorum only when R + W > N, where SS608 (R + W ≤ N) says nothing."""
    built = get_template("replicated-database").build(None)
    text = built.text.replace("      w: 1\n", f"      w: {w}\n").replace(
        "      r: 1\n", f"      r: {r}\n")
    system = load_spec_text(text)
    found = implemented(system)
    assert "tunable-consistency" in found
    assert ("majority-quorum" in found) is majority
    assert ("SS608" in {f.rule for f in lint_system(system)}) is not majority


def test_advise_spec_does_not_recommend_a_dead_letter_queue_to_one(tmp_path: Path) -> None:
    """SS404 on the dead-letter-queue template's consumer votes for a dead-letter channel,
    which its queue already has (`dead_letter: orders-dlq`)."""
    spec = tmp_path / "dlq.yaml"
    run("new", "dead-letter-queue", "-o", str(spec), app_=main_app)
    review = json.loads(run("advise", "--spec", str(spec), "--json").stdout)
    assert "dead-letter-channel" in review["implemented"]
    assert "dead-letter-channel" not in [c["id"] for c in review["changes"]]


BREAKER_NEVER_DECIDES = """scalesim: 1
name: breaker
components:
  a:
    replicas: 2
    health: {readiness: {}}
    operations:
      x:
        calls:
          - to: b.y
            timeout: 1s
            circuit_breaker: {window_type: time, window: 10, min_calls: 100}
  b: {replicas: 2, health: {readiness: {}}, operations: {y: {}}}
workloads: [{name: w, to: a.x, rate: 10/s}]
"""


def test_advise_spec_names_the_pattern_to_reconfigure(tmp_path: Path) -> None:
    """SS208's only fix is the circuit breaker the design already has: it is what must
    change (its min_calls), not a pattern to leave out, and there is no empty table."""
    spec = tmp_path / "breaker.yaml"
    spec.write_text(BREAKER_NEVER_DECIDES, "utf-8")
    review = json.loads(run("advise", "--spec", str(spec), "--json").stdout)
    assert review["changes"] == []
    assert review["reconfigure"] == [{
        "id": "circuit-breaker", "weight": 3,
        "because": ["SS208 components.a.operations.x.calls[0].circuit_breaker.min_calls"]}]
    assert "circuit-breaker" in review["implemented"]
    text = " ".join(run("advise", "--spec", str(spec)).stdout.split())
    assert "No pattern to add" in text and "answer the most findings" not in text
    assert "to change where the findings point" in text
    assert "not recommended: health-check, load-balancing, timeout" in text


def test_advise_spec_keeps_the_retry_a_retry_storm_points_at(tmp_path: Path) -> None:
    """SS204's first fix is retrying at one layer with a budget: the design's retries are
    what to change, while the breaker it lacks is still a pattern to add."""
    spec = tmp_path / "storm.yaml"
    spec.write_text("scalesim: 1\nname: storm\n" + (
        Path(__file__).resolve().parents[2] / "docs" / "lint.md").read_text("utf-8")
        .split("### SS204")[1].split("```yaml\n")[1].split("```")[0], "utf-8")
    review = json.loads(run("advise", "--spec", str(spec), "--json").stdout)
    assert [c["id"] for c in review["reconfigure"]] == ["retry"]
    assert review["reconfigure"][0]["because"] == [
        "SS204 components.a.operations.x.calls[0].retry"]
    assert "circuit-breaker" in [c["id"] for c in review["changes"]]


def test_a_setting_is_read_by_its_place_not_by_a_name() -> None:
    """A component called 'health' or an operation called 'retry' is a name: only the
    fields after them are settings."""
    assert set_in("components.health.operations.retry.calls[0].circuit_breaker.min_calls") \
        == {"circuit-breaker"}
    assert set_in("components.api.autoscale.metrics[0].cpu") == {"auto-scaling"}
    assert set_in("components.health.replicas") == set()


def test_words_with_digits_are_kept_only_as_names() -> None:
    """'100' of '100%' matched load shedding's 'CPU stays at 100%'; '2pc' and 'p99' name
    things, and any multiplier is the stop word 'x' that comparisons are written with. A
    share of half or more is the stop word 'most' that phrases are written with ('at 90%
    CPU' is high CPU, '90% reads' mostly reads); a smaller one stays a bare number."""
    assert stems("100% of 5 services, 2PC and p99") == ["most", "of", "servic", "2pc", "and",
                                                       "p99"]
    assert stems("5% of 50 services") == stems("49.9 % of services") == ["of", "servic"]
    assert stems("at 90% CPU") == stems("at 50 % CPU") == ["at", "most", "cpu"]
    assert ("read", "load") in expand("90% reads").recognised
    assert stems("reads are 100x writes") == stems("reads are 3.5 times writes")
    assert ("read", "load") in expand("reads are 100x writes").recognised


@pytest.mark.parametrize("ask", ["reads are 100x writes and the database is at 90% CPU",
                                 "the database is at 90% CPU",
                                 "database CPU is pegged at 100%"])
def test_high_cpu_is_a_busy_database_not_idle_threads(catalog: Catalog, ask: str) -> None:
    """Synchronous I/O and blocked threads show a low or idle CPU (their symptoms): a
    description of high CPU argues against them (negative-cues.yaml), and a saturated
    database is relieved by replicas and caches before load is shed or levelled."""
    advice = advise_text(catalog, load_trees(), ask)
    diagnosed = [d.id for d in advice.diagnoses]
    assert "busy-database" in diagnosed
    assert not {"synchronous-io", "blocked-threads"} & set(diagnosed)
    assert advice.suggestions[0].id not in {"load-shedding", "queue-based-load-leveling"}


def test_only_a_high_cpu_argues_against_synchronous_io(catalog: Catalog) -> None:
    assert negatives("synchronous-io", expand("the database is at 90% CPU")) == 1
    assert negatives("synchronous-io", expand("CPU is at 10% but threads block")) == 0
    advice = advise_text(catalog, load_trees(), "thread pool exhausted while CPU is low")
    assert advice.diagnoses[0].id == "synchronous-io"


def test_overloaded_names_no_pattern_overload(catalog: Catalog) -> None:
    """'pattern' is a stop word in a description and a word in a name: 'Pattern Overload'
    has its 'overload' only inside its two-word name, so 'the database is overloaded'
    answers nothing of it (cues.fragments), while naming it still diagnoses it."""
    pattern = catalog["pattern-overload"]
    said = stems("the database is overloaded")
    assert "overload" in fragments(pattern, ["databas", "overload"], said)
    assert "overload" not in fragments(pattern, ["overload"], stems("pattern overload"))
    database = advise_text(catalog, load_trees(), "the database is overloaded")
    assert database.diagnoses[0].id == "busy-database"
    named = advise_text(catalog, load_trees(), "we suffer from pattern overload")
    assert named.diagnoses[0].id == "pattern-overload"


@pytest.mark.parametrize("ask", ["retries are making outages worse",
                                 "retries amplify every outage"])
def test_retries_that_worsen_outages_are_a_retry_storm(catalog: Catalog, ask: str) -> None:
    """'make' and 'worse' say that something is done and judged, not what ('controller'
    matched both), and 'amplify' meets the retry storm's alias 'retry amplification'."""
    assert terms("retries are making outages worse") == ["retri", "outag"]
    assert stems("amplify amplifies amplification") == ["amplif"] * 3
    advice = advise_text(catalog, load_trees(), ask)
    assert advice.diagnoses[0].id == "retry-storm"
    assert {"circuit-breaker", "retry"} <= {s.id for s in advice.suggestions}


def test_a_negation_reaches_to_the_end_of_its_clause_outside_phrases() -> None:
    assert expand("avoid two-phase commit, but keep it fast").negated == ("two", "phase",
                                                                        "commit")
    assert expand("we don't want a message broker").negated == ("want", "a", "messag",
                                                                  "broker")
    assert expand("deploy without downtime").negated == ()  # a synonym phrase
    assert expand("must not double-charge").negated == ()


def test_a_negation_rejects_the_pattern_it_names_whole(catalog: Catalog) -> None:
    """The longest name wins ('message broker', not the alias 'messaging' of asynchronous
    messaging); an anti-pattern is never rejected, and 'no caching' is a name."""
    def named(text: str) -> set[str]:
        return rejected(catalog, expand(text, negating_names(catalog)).negated)
    assert named("we do not want a message broker") == {"message-broker"}
    assert named("without distributed transactions") == {"two-phase-commit"}
    assert named("we have no caching") == set()
    assert named("no single point of failure") == set()


def test_a_word_bound_to_a_name_means_the_name_only_inside_it(catalog: Catalog) -> None:
    """'balancing' is 'load balancing' in 23 of the catalog's 31 uses: alone ('account
    balances') it keeps its own sense, next to 'load' in either order it is the name."""
    known = index(catalog, everything)
    assert known.bound["balanc"] == ("load", "balanc")
    assert "load-balanc" in known.weighted_terms("balance the load")
    assert "load-balanc" not in known.weighted_terms("account balances")


def test_a_word_said_only_inside_a_phrase_is_answered_by_the_phrase_alone() -> None:
    """'double-charge' means duplicates: split-brain resolution's 'in charge' and
    'double-process' share its words apart and answer none of it, while what the phrase
    brought ('duplic') answers both words. 'charge' said apart again is the word's own."""
    said = expand("payments must not double-charge")
    assert said.phrased == {"doubl", "charg"}
    own = ["payment", "must", "doubl", "charg"]
    assert covered(own, ["doubl", "charg"], said.because, (), said.phrased) == set()
    assert covered(own, ["duplic"], said.because, (), said.phrased) == {"doubl", "charg"}
    assert expand("a double-charge is a charge too many").phrased == {"doubl"}


def test_a_generic_verb_carries_no_pattern_and_a_named_anti_pattern_is_diagnosed(
        catalog: Catalog) -> None:
    """'prevent' says that something should not happen, not what: it matched split-brain
    resolution and return addresses. 'thundering herd' is the dogpile's alias, said whole,
    and a herd of retries is a retry storm, whose fixes are the answer."""
    advice = advise_text(catalog, load_trees(), "prevent a thundering herd of retries")
    suggested = [s.id for s in advice.suggestions]
    assert "prevent" not in advice.terms
    assert not {"split-brain-resolution", "return-address"} & set(suggested)
    assert [d.id for d in advice.diagnoses][:2] == ["dogpile", "retry-storm"]
    storm = catalog["retry-storm"].anti_pattern
    assert storm is not None
    assert set(suggested) <= set(storm.fixed_by)  # 'herd of retries' is a retry storm
    assert {"rate-limiting", "backpressure"} <= set(suggested)


def test_a_rejected_name_does_not_carry_the_patterns_that_share_its_words(
        catalog: Catalog) -> None:
    """'we don't want a service mesh' asks for the mesh's alternatives, not a data mesh,
    and 'don't' is no search term."""
    advice = advise_text(catalog, load_trees(), "we don't want a service mesh")
    suggested = [s.id for s in advice.suggestions]
    assert "data-mesh" not in suggested and "service-mesh" not in suggested
    assert "don't" not in advice.terms
    assert set(suggested[:2]) <= set(catalog["service-mesh"].relations.alternative_to) | {
        p.id for p in catalog if "service-mesh" in p.relations.alternative_to}


@pytest.mark.parametrize("ask", ["how do I split my monolith",
                                 "decompose our monolith into services",
                                 "migrate a monolith to microservices"])
def test_splitting_a_monolith_leads_first_to_the_strangler_fig(
        catalog: Catalog, ask: str) -> None:
    """Splitting or decomposing a monolith is migrating off it, slice by slice: not
    building one (monolithic architecture) nor sharing its database."""
    suggested = [s.id for s in advise_text(catalog, load_trees(), ask).suggestions]
    assert suggested[0] == "strangler-fig"
    assert "shared-database" not in suggested[:2]


def test_a_negation_word_is_no_search_term(catalog: Catalog) -> None:
    """'without' said what was not wanted and matched whatever says 'without' (data
    lakehouse, transaction-log tailing), and the rest of the rejected name diagnosed a
    distributed monolith."""
    advice = advise_text(catalog, load_trees(), "without distributed transactions")
    assert "without" not in advice.terms
    assert advice.diagnoses == []
    assert {s.id for s in advice.suggestions[:2]} == {"saga", "compensating-transaction"}


# The orders of an imported Kubernetes spec (QA): an HPA of 2..12 replicas on 10/s of 5 ms
# work, which one replica of 2 workers carries at ρ 0.03; a database replicated async, at 3
# replicas; 100/s of 100 ms on 'busy', 13 replicas' worth at ρ 0.8, in a cluster of 5 pods.
VALIDATED = """
scalesim: 1
name: validated
components:
  orders:
    replicas: 2
    workers: 2
    autoscale: {min: 2, max: 12, metrics: [{cpu: 60%}]}
    operations: {handle: {work: 5ms}}
  db:
    kind: database
    replicas: 3
    replication: {mode: async, writes: [put], reads: followers}
    operations: {get: {work: 1ms}, put: {work: 1ms}}
  busy:
    replicas: 2
    operations: {run: {work: 100ms}}
cluster: {nodes: 1, pods_per_node: 8}
workloads:
  - {name: o, to: orders.handle, rate: 10/s}
  - {name: g, to: db.get, rate: 10/s}
  - {name: b, to: busy.run, rate: 100/s}
"""


def test_advise_spec_offers_only_changes_the_spec_validates_with(tmp_path: Path) -> None:
    """One replica carries orders and db, but the QA review offered 'autoscale.max 1'
    under autoscale.min 2 and '1 replica' to an async replication (which needs 2), both
    refused by `validate --set`: the smallest value the spec takes is offered instead.
    busy needs 13 replicas, which the cluster's 8 pods cannot hold beside the others' 5:
    they are offered with the 3 nodes that hold them, as SS501 words it."""
    spec = tmp_path / "validated.yaml"
    spec.write_text(VALIDATED, "utf-8")
    found = json.loads(run("advise", "--spec", str(spec), "--json").stdout)["components"]
    assert found["orders"]["rho"] == pytest.approx(10 * 0.005 / (12 * 2))
    assert found["orders"]["change"] == found["orders"]["sustained_change"] == "autoscale.max 2"
    assert found["db"]["change"] == found["db"]["sustained_change"] == "2 replicas"
    assert found["busy"]["rho"] == pytest.approx(100 * 0.1 / 2)
    assert found["busy"]["change"] == found["busy"]["sustained_change"] == \
        "13 replicas with cluster.nodes 3 to hold them"
    # each offered change validates, and the one below it does not
    load_spec_text(VALIDATED, overrides=["components.orders.autoscale.max=2",
                                         "components.db.replicas=2"])
    load_spec_text(VALIDATED, overrides=["components.busy.replicas=13", "cluster.nodes=3"])
    for refused in ("components.orders.autoscale.max=1", "components.db.replicas=1",
                    "components.busy.replicas=13"):
        with pytest.raises(SpecError):
            load_spec_text(VALIDATED, overrides=[refused])
    text = " ".join(run("advise", "--spec", str(spec)).stdout.split())
    assert "autoscale.max 2 / autoscale.max 2" in text
    assert "ρ peak 5.00 smallest change for ρ ≤ 0.8 (sustained / peak) 13 replicas with " \
        "cluster.nodes 3 to hold them / 13 replicas" in text


@pytest.mark.parametrize(("ask", "first"), [
    ("one slow dependency takes everything down", "cascading-failure"),
    ("one slow dependency brings the whole system down", "cascading-failure"),
])
def test_a_symptom_said_with_its_object_between_is_diagnosed(
        catalog: Catalog, ask: str, first: str) -> None:
    """'takes everything down' is 'takes down' (synonyms.yaml): the dependency's failure
    spreading, which diagnosed a single point of failure while cascading failure was
    missing."""
    diagnoses = advise_text(catalog, load_trees(), ask).diagnoses
    assert diagnoses and diagnoses[0].id == first, diagnoses


def test_irregular_forms_meet_their_verb() -> None:
    """A stemmer strips suffixes only: 'lost' stayed apart from 'lose' and 'losing'."""
    assert stems("lost losing loses loss") == stems("lose lose lose lose")
    assert stems("written wrote") == stems("write writes")


def test_a_negated_name_is_rejected_only_whole(catalog: Catalog) -> None:
    """The alias 'write-through' reduced to 'write' without its stop word, so 'never lose
    a write' rejected write-through caching and handed its score to write-behind."""
    def named(text: str) -> set[str]:
        return rejected(catalog, expand(text, negating_names(catalog)).negated)
    assert named("we never want to lose a write") == set()
    assert named("we do not want a write-through cache") == {"write-through-cache"}
    advice = advise_text(catalog, load_trees(), "we never want to lose a write")
    assert all("instead of" not in why for s in advice.suggestions for why in s.why)


@pytest.mark.parametrize(("backoff", "counted"), [("none", False), ("constant", True),
                                                  ("exponential", True)])
def test_a_retry_without_backoff_is_not_retry_with_backoff(backoff: str, counted: bool) -> None:
    """A retry that tries again at once is what SS202 warns about: listing it as the
    pattern already in the design hid the pattern the finding asks for."""
    system = load_spec_text(BAD_RETRY.replace("BACKOFF", backoff))
    assert ("retry" in implemented(system)) is counted
    findings = {f.rule for f in lint_system(system)}
    assert ("SS202" in findings) is not counted


BAD_RETRY = """
scalesim: 1
name: bad
components:
  a: {replicas: 2, operations: {x: {calls: [{to: b.y, retry: {attempts: 3, backoff: BACKOFF}}]}}}
  b: {replicas: 2, operations: {y: {work: 5ms}}}
workloads: [{name: w, to: a.x, rate: 10/s}]
"""


def test_a_hedge_is_hedged_requests() -> None:
    """examples/hedging.yaml hedges every leaf call: the design already has the pattern."""
    system = load_spec_text((EXAMPLES / "hedging.yaml").read_text("utf-8"))
    assert "hedged-requests" in implemented(system)


def test_a_question_that_rules_out_all_it_matched_says_so() -> None:
    """'we are not using retries with backoff' matches retry and negates it: the answer said
    'Nothing in the catalog matches; try other words', as if retry had not been found. It
    names what the words ruled out (and the JSON lists it)."""
    question = "we are not using retries with backoff"
    result = CliRunner().invoke(main_app, ["advise", question])
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "Ruled out by the description's own words: retry" in text
    assert "Nothing else in the catalog matches" in text
    advice = json.loads(CliRunner().invoke(main_app, ["advise", question, "--json"]).stdout)
    assert advice["ruled_out"] == ["retry"] and advice["suggestions"] == []
    plain = json.loads(CliRunner().invoke(main_app, ["advise", "checkout is slow",
                                                     "--json"]).stdout)
    assert plain["ruled_out"] == []
