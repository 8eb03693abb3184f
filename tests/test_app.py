"""The teaching app: the sliders build the partnership they show, and the page works in a real
browser (headless Chromium driven by Playwright) at a classroom projector's size, as a student
would use it; `collabsim app` refuses a busy port and never leaves its server behind."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

import sim
from sim.teaching import app as teaching
from sim.teaching import plots as teaching_plots

ROOT = Path(__file__).resolve().parent.parent
THREE = ROOT / "scenarios" / "three_councils.yaml"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def defaults(scenario=THREE):
    params = teaching.model_params(scenario)
    return {k: v["value"] if isinstance(v, dict) and "type" in v else v
            for k, v in params.items()}


def test_every_uncertain_input_is_pinned_at_its_point_estimate():
    sc = teaching.pinned(ROOT / "scenarios" / "typical.yaml")
    assert sim.partnership.inputs.count_uncertain(sc) == 0
    assert sc.population is None and len(sc.partners) == 5
    # typical.yaml: implementation cost triangular [0.9, 1.2, 2.0] -> its mode
    assert sc.charter.business_case.implementation_cost_m == pytest.approx(1.2)
    assert sc.partners[0].ambition == pytest.approx(0.5)  # uniform [0.2, 0.8] -> median


def test_sliders_cover_each_partners_traits_the_charter_and_a_shock():
    params = teaching.model_params(THREE)
    for partner in ("Northshire", "Eastvale", "Southmoor"):
        for trait in teaching.SLIDER_TRAITS:
            slider = params[teaching.slider_name(partner, trait)]
            assert slider["type"] == "SliderFloat" and 0 <= slider["value"] <= 1
    assert {"decision_rule", "dedicated", "training", "consensus", "call_out", "shock",
            "shock_partner", "shock_cycle", "shock_magnitude", "seed"} <= set(params)


def test_the_model_is_the_partnership_the_sliders_describe():
    values = defaults()
    values[teaching.slider_name("Northshire", "resourcing")] = 0.9
    values.update(decision_rule="majority", dedicated=0.6, shock="budget_cut",
                  shock_partner="Northshire", shock_cycle=4, shock_magnitude=0.6)
    model = teaching.TeachingModel(**values)
    assert model.partners[0].resourcing == pytest.approx(0.9)
    assert model.inputs.decision_rule == "majority" and model.inputs.dedicated == 0.6
    for _ in range(4):
        model.step()
    assert (4, "budget_cut", "Northshire") in model.events
    assert model.partners[0].resourcing == pytest.approx(0.9 * 0.4)
    # the seed changes only the luck: same partnership, different trajectory
    other = teaching.TeachingModel(**{**values, "seed": 2})
    assert other.inputs.traits["ambition"].tolist() == model.inputs.traits["ambition"].tolist()
    with pytest.raises(ValueError, match="unknown slider"):
        teaching.TeachingModel(**{**defaults(), "Westshire: ambition": 0.5})


@pytest.mark.slow
def test_the_pictures_draw_at_the_start_and_after_a_dissolution(tmp_path):
    model = teaching.TeachingModel(**{**defaults(), "shock": "partner_exit",
                                      "shock_partner": "all", "shock_cycle": 3})
    for draw in (teaching_plots.savings_against_business_case, teaching_plots.trust_over_time,
                 teaching_plots.trust_network, teaching_plots.satisfaction_over_time):
        draw(model).savefig(tmp_path / "start.png")
    while model.running:
        model.step()
    assert model.dissolved
    for draw in (teaching_plots.trust_network, teaching_plots.satisfaction_over_time):
        draw(model).savefig(tmp_path / "end.png")


def test_the_info_panel_has_netlogos_sections():
    headings = [line[3:] for line in teaching.INFO.splitlines() if line.startswith("## ")]
    assert headings == ["WHAT IS IT?", "HOW IT WORKS", "THINGS TO NOTICE", "THINGS TO TRY",
                        "EXTENDING THE MODEL"]


@pytest.mark.slow
def test_the_page_renders_as_a_component_for_notebooks():
    import solara

    element = sim.partnership_page(THREE)
    assert element.component.name == "PartnershipPage"
    solara.render(element, handle_error=False)


def test_sliders_are_grouped_by_the_charter_the_shock_and_each_partner():
    params = teaching.model_params(THREE)
    groups = teaching.slider_groups(params)
    assert [title for title, _ in groups] == ["The charter", "The shock", "Northshire",
                                             "Eastvale", "Southmoor"]
    grouped = [name for _, names in groups for name in names]
    assert sorted(grouped + ["seed", "scenario"]) == sorted(params)


def test_the_team_and_training_show_in_the_partners_table():
    plain = teaching.partners_html(teaching.TeachingModel(**defaults()))
    team = teaching.partners_html(teaching.TeachingModel(**{**defaults(), "dedicated": 0.8,
                                                            "training": 0.5}))
    assert "with the team" not in plain and "→" not in plain
    # Northshire: resourcing 0.30 lifted towards 1 by a team of 0.8: 0.30 + 0.70 * 0.8 = 0.86
    assert "resourcing (with the team)" in team and "0.30 → 0.86" in team
    assert "skills (with training)" in team


def test_the_verdict_appears_after_the_last_review_in_the_words_of_collabsim_run():
    model = teaching.TeachingModel(**defaults())
    while model.cycle < model.horizon - 1:
        model.step()
    assert "Verdict" not in teaching.monitors_html(model)
    model.step()                      # the last review: running turns False one step later
    assert model.cycle == model.horizon and model.finished
    page = teaching.monitors_html(model)
    st = model.standing
    assert "Verdict after review 10" in page and "Delivers the business case" in page
    assert f"{st.status} ({sim.STATUS_MEANINGS[st.status]})" in page


def test_with_and_without_a_shock_differ_only_from_the_shocks_review_on():
    values = {**defaults(), "shock": "budget_cut", "shock_partner": "Northshire",
              "shock_cycle": 4, "shock_magnitude": 0.6}
    without, with_shock = teaching.with_and_without(values)
    assert without.events != with_shock.events and not without.running
    assert teaching.first_difference(without, with_shock) == 4
    summary, table = teaching.comparison_html(without, with_shock, 4)
    assert "identical up to review 3 and differ from review 4" in summary
    assert table.count('class="cs-same"') == 4 and table.count('class="cs-differs"') == 7


def test_the_csv_downloads_hold_what_the_plots_show():
    import io

    import pandas as pd

    model = teaching.TeachingModel(**defaults())
    for _ in range(3):
        model.step()
    reviews = pd.read_csv(io.BytesIO(teaching.history_csv(model)))
    partners = pd.read_csv(io.BytesIO(teaching.history_csv(model, partners=True)))
    assert reviews["review"].tolist() == [0, 1, 2, 3]
    assert {"cum_net_savings_m", "mean_trust", "status"} <= set(reviews.columns)
    assert len(partners) == 4 * 3 and {"partner", "appraisal", "leave_below"} <= set(partners)


# --- in a real browser ---------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(scenario=ROOT / "scenarios" / "hokey_cokey.yaml"):
    """Start `collabsim app` on a free port in a session of its own; wait until it answers."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "sim.cli", "app", str(scenario), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 90
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return url, server
        except OSError:
            if server.poll() is not None or time.time() > deadline:
                out = server.stdout.read().decode(errors="replace") if server.poll() \
                    is not None else "(still starting)"
                os.killpg(server.pid, signal.SIGKILL)
                pytest.fail(f"the app server did not start: {out[-2000:]}")
            time.sleep(0.5)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


@pytest.fixture
def served_app():
    url, server = _serve()
    try:
        yield url, server
    finally:
        if _group_alive(server.pid):
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_killing_collabsim_app_stops_its_server(sig):
    """`kill PID` (or `kill -9 PID`) of `collabsim app` leaves no Solara child serving the port."""
    url, server = _serve(THREE)
    try:
        server.send_signal(sig)             # the command only, not its process group
        code = server.wait(timeout=20)
        assert code == (143 if sig == signal.SIGTERM else -signal.SIGKILL)
        deadline = time.time() + 15
        while _group_alive(server.pid) and time.time() < deadline:
            time.sleep(0.2)
        assert not _group_alive(server.pid), "the Solara child outlived collabsim app"
        with pytest.raises(OSError):
            urllib.request.urlopen(url, timeout=2)
    finally:
        if _group_alive(server.pid):
            os.killpg(server.pid, signal.SIGKILL)


@pytest.mark.slow
def test_a_busy_port_is_refused_before_anything_is_announced():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "sim.cli", "app", "--port", str(port)],
                              capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert f"port {port} on 127.0.0.1 is already in use" in done.stderr
    assert "--port" in done.stderr and "collabsim app:" not in done.stderr + done.stdout


CHROMIUM_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
#: A classroom projector's screen (the browser's viewport).
CLASSROOM = {"width": 1366, "height": 768}
#: Set to a path to keep the test's screenshot there (docs/app.png is taken this way).
SCREENSHOT_ENV = "COLLABSIM_APP_SCREENSHOT"


def _boxes(page, selector):
    return page.evaluate("""s => Array.from(document.querySelectorAll(s)).map(e => {
        const r = e.getBoundingClientRect();
        return {left: r.left, top: r.top, right: r.right, bottom: r.bottom, width: r.width,
                natural: e.naturalWidth || 0, text: e.innerText || ''}; })""", selector)


@pytest.mark.slow
def test_a_student_uses_the_app_in_a_browser_at_classroom_size(served_app, tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.skip("no Chromium on this machine (Debian: apt-get install chromium; .ci/run "
                    "installs it)")
    from playwright.sync_api import sync_playwright

    url, _ = served_app
    params = teaching.model_params(ROOT / "scenarios" / "hokey_cokey.yaml")
    sliders = {k: v for k, v in params.items()
               if isinstance(v, dict) and v.get("type", "").startswith("Slider")}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport=CLASSROOM)
        page_errors, requests = [], []
        page.on("pageerror", lambda e: page_errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(url, timeout=90_000)
        step = page.get_by_role("button", name="Step")
        step.wait_for(timeout=90_000)
        monitor = page.locator('[data-monitor="review"]')
        monitor.get_by_text("0 of 10").wait_for(timeout=30_000)

        # named tabs
        for name in teaching.TABS:
            assert page.get_by_role("tab", name=name).is_visible()

        # every plot on screen at once, drawn at the size it is shown (so text is not shrunk)
        figures = page.locator("img.cs-plot")
        figures.first.wait_for(timeout=30_000)
        plots = _boxes(page, "img.cs-plot")
        assert len(plots) == 4
        for box in plots:
            assert box["bottom"] <= CLASSROOM["height"] and box["right"] <= CLASSROOM["width"]
            assert box["width"] >= 0.95 * box["natural"], "a plot scaled down"
        assert page.evaluate("document.documentElement.scrollHeight") <= CLASSROOM["height"]

        # every slider shows its value at rest, once its group is open
        for header in page.locator(".v-expansion-panel-header").all():
            if "v-expansion-panel-header--active" not in (header.get_attribute("class") or ""):
                header.click()
        page.wait_for_timeout(500)
        for name, spec in sliders.items():
            value = page.locator(f'[data-slider="{name}"]')
            value.scroll_into_view_if_needed()
            assert value.is_visible(), name
            assert value.inner_text() == teaching._shown(spec["value"], spec), name

        # stepping redraws every plot, and the groups opened stay open
        before = [figures.nth(i).get_attribute("src") for i in range(4)]
        for n in range(1, 4):
            step.click()
            monitor.get_by_text(f"{n} of 10").wait_for(timeout=30_000)
        page.wait_for_timeout(500)
        after = [figures.nth(i).get_attribute("src") for i in range(4)]
        assert all(a != b for a, b in zip(before, after)), "every plot redraws after a step"
        assert all(page.locator(f'[data-slider="{name}"]').is_visible() or
                   page.locator(f'[data-slider="{name}"]').count() == 1 for name in sliders)
        assert page.locator(".v-expansion-panel-header--active").count() == \
            len(teaching.slider_groups(params))

        # the verdict at the horizon
        assert page.locator(".cs-verdict").count() == 0
        page.get_by_role("button", name="To end").click()
        verdict = page.locator(".cs-verdict")
        verdict.wait_for(timeout=30_000)
        assert "Verdict after review 10" in verdict.inner_text()
        assert "Delivers the business case" in verdict.inner_text()
        page.wait_for_timeout(500)
        shot = tmp_path / "app.png"
        page.screenshot(path=shot)
        body = page.inner_text("body")
        assert "Traceback" not in body and page.locator(".v-alert.error").count() == 0

        # the same luck with and without a shock: a budget cut at review 4
        page.locator(".v-select").filter(has_text="shock").first.click()
        page.get_by_role("option", name="budget_cut").click()
        page.get_by_role("tab", name="With and without the shock").click()
        page.locator("table.cs-compare").wait_for(timeout=30_000)
        at = params["shock_cycle"]["value"]
        rows = page.locator("table.cs-compare tbody tr")
        assert rows.count() == 11
        for review in range(11):
            row = rows.nth(review)
            cells = row.locator("td").all_inner_texts()
            if review < at:
                assert cells[-1] == "same" and cells[1] == cells[2], review
            else:
                assert cells[-1] == "differs", review
        assert f"differ from review {at}" in page.locator(".cs-parted").inner_text()

        page.get_by_role("tab", name="Info").click()
        page.get_by_text("THINGS TO TRY").wait_for(timeout=30_000)
        page.get_by_role("tab", name="Model").click()
        page.get_by_role("button", name="Reset").click()
        monitor.get_by_text("0 of 10").wait_for(timeout=30_000)
        assert page_errors == []
        browser.close()
    # nothing but the app's own server was asked for anything
    assert requests and all(r.startswith((url, "data:", "blob:")) for r in requests), \
        [r for r in requests if not r.startswith((url, "data:", "blob:"))]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get(SCREENSHOT_ENV):
        shutil.copyfile(shot, os.environ[SCREENSHOT_ENV])


def _page_html(model) -> str:
    without, with_shock = teaching.with_and_without({**model.settings, "scenario": model.scenario,
                                                     "shock": "budget_cut"})
    return "".join([teaching.title_html(model), teaching.monitors_html(model.run_to_end()),
                    teaching.partners_html(model),
                    *teaching.comparison_html(without, with_shock, 1)])


def test_user_text_on_the_page_is_shown_as_text_never_as_markdown_or_html(tmp_path):
    import yaml

    data = yaml.safe_load(THREE.read_text())
    data["name"] = "Beacon ![b](http://example.invalid/beacon.png) <img src=x> **bold**"
    data["partners"][0]["name"] = "[click](javascript:alert(document.domain))"
    for service in data["charter"].get("services", []):
        service["lead"] = service["lead"].replace("Northshire", data["partners"][0]["name"])
    path = tmp_path / "odd.yaml"
    path.write_text(yaml.safe_dump(data))
    model = teaching.TeachingModel(**defaults(path))
    page = _page_html(model)
    for markup in ("<a", "href", "<img", "<strong", "<script"):
        assert markup not in page, markup
    assert "[click](javascript:alert(document.domain))" in page
    assert "![b](http://example.invalid/beacon.png) &lt;img src=x&gt; **bold**" in page


def test_partner_join_is_offered_only_when_someone_can_join(tmp_path):
    import yaml

    assert "partner_join" not in teaching.model_params(THREE)["shock"]["values"]
    data = yaml.safe_load(THREE.read_text())
    data["partners"].append({**data["partners"][2], "name": "Westfield", "joins_at": None})
    path = tmp_path / "prospect.yaml"
    path.write_text(yaml.safe_dump(data))
    assert "partner_join" in teaching.model_params(path)["shock"]["values"]
    # the partner menu cannot depend on the shock: a join aimed at a founder is left out,
    # and the page says why, instead of a traceback
    model = teaching.TeachingModel(**{**defaults(path), "shock": "partner_join",
                                      "shock_partner": "Northshire"})
    assert "The shock was left out" in model.notice and "founding partner" in model.notice
    assert "The shock was left out" in _page_html(model)
    joined = teaching.TeachingModel(**{**defaults(path), "shock": "partner_join",
                                       "shock_partner": "Westfield", "shock_cycle": 2})
    assert joined.notice == ""
    for _ in range(2):
        joined.step()
    assert (2, "partner_join", "Westfield") in joined.events
