"""Oracles (BrowserGym's "cheat") for MiniWoB++ pages: ``oracle(env) -> [next actions]``.

An oracle reads the page's own state (the scorer's side: it may look at what the agent
cannot) to find what to do next, and answers in the agent's grammar: ``click(N)``,
``fill(N, "text")``, ``select(N, "option")``, ``press("Key")``, ``drag(N, M)``, with N
the element ids of the latest observation. Most return one action (the page changes
after it, and ``OracleAgent`` replans when its plan runs out).

Each oracle is a JavaScript function run in the page that returns the next step as
``{verb, el, text, to, key}`` (DOM elements for ``el`` / ``to``); the element is then
found in the observation through its accessibility-snapshot ref.
"""

from __future__ import annotations

import json

_MARK = "data-palaestra-oracle"


def _q(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


def _element_id(env, handle) -> int:
    """The observation id of a DOM element (a JSHandle), through its snapshot ref."""
    import re

    tab = env._tab
    by_ref = {ref: k for k, ref in tab.ids.items()}
    handle.evaluate(f"e => e.setAttribute('{_MARK}', '1')")
    try:
        snap = tab.page.locator(f"[{_MARK}]").aria_snapshot(mode="ai", timeout=tab.timeout_ms)
    finally:
        handle.evaluate(f"e => e.removeAttribute('{_MARK}')")
    m = re.search(r"\[ref=([a-z0-9]+)\]", snap.splitlines()[0] if snap else "")
    if m is None or m.group(1) not in by_ref:
        raise RuntimeError(f"the oracle's target element is not in the observation ({snap[:80]!r})")
    return by_ref[m.group(1)]


def run_js_oracle(env, js: str) -> list[str]:
    """Run a page-side oracle function and turn its answer into one grammar action."""
    page = env._tab.page
    try:
        return _run_js_oracle(env, js)
    finally:
        # a snapshot of a part of the page makes Playwright resolve ``aria-ref`` in that
        # part only: a full one (same refs: they stay with their elements) restores the rest
        page.aria_snapshot(mode="ai", timeout=env._tab.timeout_ms)


def _run_js_oracle(env, js: str) -> list[str]:
    page = env._tab.page
    res = page.evaluate_handle(f"() => {{ const f = {js}; return f(); }}")
    desc = res.evaluate("r => r ? {verb: r.verb, text: r.text === undefined ? null : String(r.text), "
                        "key: r.key || null, has_to: !!r.to} : null")
    if desc is None:
        return []
    verb = desc["verb"]
    if verb == "press":
        return [f"press({_q(desc['key'])})"]
    if verb == "scroll":
        return [f"scroll({desc['text']})"]
    n = _element_id(env, res.get_property("el"))
    if verb == "click":
        return [f"click({n})"]
    if verb == "fill":
        return [f"fill({n}, {_q(desc['text'])})"]
    if verb == "select":
        return [f"select({n}, {_q(desc['text'])})"]
    if verb == "drag":
        m = _element_id(env, res.get_property("to"))
        return [f"drag({n}, {m})"]
    raise ValueError(f"oracle answered an unknown verb {verb!r}")


def js_oracle(js: str):
    return lambda env: run_js_oracle(env, js)


# ---- the pages -------------------------------------------------------------------------
# Each function body returns the next step or null; helpers are in _LIB (prepended).
_LIB = r"""
const $$ = (s, r) => [...(r || document).querySelectorAll(s)];
const txt = e => (e.textContent || '').replace(/\s+/g, ' ').trim();
const q = () => document.getElementById('query').textContent.replace(/\s+/g, ' ').trim();
const vis = e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0 &&
  getComputedStyle(e).visibility !== 'hidden'; };
const byText = (sel, t) => $$(sel).find(e => txt(e) === t && vis(e));
const quoted = () => { const m = q().match(/"([^"]*)"/); return m ? m[1] : null; };
// an element whose centre another one covers (two buttons placed at random can overlap)
// cannot be clicked there: it is reached with Tab and pressed with Enter instead
const covered = el => { const r = el.getBoundingClientRect(), x = r.left + r.width / 2, y = r.top + r.height / 2;
  if (x < 0 || y < 0 || x >= innerWidth || y >= innerHeight) return false;
  const top = document.elementFromPoint(x, y); return top !== null && top !== el && !el.contains(top); };
const click = el => !covered(el) ? {verb: 'click', el: el}
  : {verb: 'press', key: document.activeElement === el ? 'Enter' : 'Tab'};
const fill = (el, text) => ({verb: 'fill', el: el, text: text});
const $1 = s => typeof s === 'string' ? document.querySelector(s) : s;
const fillThenSubmit = (pairs) => {
  for (const [s, v] of pairs) { const el = $1(s); if (el.value !== v) return fill(el, v); }
  return click(document.getElementById('subbtn') || $$('#area button').find(vis));
};
const checkboxes = () => {
  const m = q().match(/^Select (.*) and click Submit\.$/);
  const names = m[1] === 'nothing' ? [] : m[1].split(', ');
  for (const label of $$('#area label')) {
    const box = label.querySelector('input');
    if (box.checked !== names.includes(txt(label))) return click(box);
  }
  return click(document.getElementById('subbtn'));
};
const tabOf = e => { const panel = e.closest('.ui-tabs-panel');
  return $$('#area ul a').find(a => a.getAttribute('href') === '#' + panel.id); };
const linkIn = (opener) => {
  const links = $$('#area .alink').filter(e => txt(e) === quoted());
  const shown = links.find(vis);
  return click(shown || opener(links[0]));
};
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September',
  'October', 'November', 'December'];
const datepicker = () => {
  const want = q().match(/(\d\d)\/(\d\d)\/(\d{4})/);
  const input = document.getElementById('datepicker');
  if (input.value === want[0]) return click(document.getElementById('subbtn'));
  const div = document.getElementById('ui-datepicker-div');
  if (!div || !vis(div)) return click(input);
  const shown = MONTHS.indexOf(txt(div.querySelector('.ui-datepicker-month'))) +
    12 * parseInt(txt(div.querySelector('.ui-datepicker-year')));
  const target = parseInt(want[1]) - 1 + 12 * parseInt(want[3]);
  if (shown > target) return click(div.querySelector('.ui-datepicker-prev'));
  if (shown < target) return click(div.querySelector('.ui-datepicker-next'));
  return click($$('a', div).find(a => txt(a) === String(parseInt(want[2]))));
};
"""


def _page(body: str):
    return js_oracle("() => {" + _LIB + body + "}")


PAGES: dict[str, str] = {
    # ---- click --------------------------------------------------------------------------
    "click-test": "return click($$('#subbtn')[0]);",
    "click-test-2": "return click(byText('#area button', q().match(/button (\\w+)/)[1]));",
    "click-test-transfer": "return click(byText('#area button', q().match(/button (\\w+)/)[1]));",
    "click-button": "return click(byText('#area button', quoted()));",
    "click-button-sequence": "return click($$(buttonsPushed.length === 0 ? '#subbtn' : '#subbtn2')[0]);",
    "click-dialog": "return click($$('.ui-dialog-titlebar button')[0]);",
    "click-dialog-2": """const want = quoted();
        if (want === 'x') return click($$('.ui-dialog-titlebar button')[0]);
        return click(byText('.ui-dialog-buttonpane button', want));""",
    "click-widget": """const t = quoted();
        return click($$('#area .widget').map(w => w.querySelector('input, textarea, button'))
          .find(e => e.getAttribute('data-type') === t));""",
    "identify-shape": """const svg = document.getElementById('area_svg');
        const t = svg.querySelector('text');
        let type = t ? (/\\d/.test(t.textContent) ? 'digit' : 'letter')
          : svg.querySelector('circle') ? 'circle' : svg.querySelector('rect') ? 'rectangle' : 'triangle';
        return click($$('#area-buttons button').find(b => b.getAttribute('data-type') === type));""",
    "focus-text": "return click(document.getElementById('tt'));",
    "focus-text-2": "return click(document.getElementById('tt' + q().match(/(\\d)(st|nd|rd)/)[1]));",
    "click-collapsible": """if ($$('.ui-accordion-content').some(vis)) return click(document.getElementById('subbtn'));
        return click($$('#area h3')[0]);""",
    "click-collapsible-nodelay": """if ($$('.ui-accordion-content').some(vis)) return click(document.getElementById('subbtn'));
        return click($$('#area h3')[0]);""",
    "click-tab": "return click($$('#area ul a').find(a => a.getAttribute('href') === '#tabs-' + q().match(/#(\\d)/)[1]));",
    "click-checkboxes": "return checkboxes();",
    "click-checkboxes-large": "return checkboxes();",
    "click-checkboxes-transfer": "return checkboxes();",
    "click-option": """const want = q().match(/^Select (.*) and click Submit\\.$/)[1];
        const label = $$('#boxes label').find(l => txt(l) === want);
        if (!label.querySelector('input').checked) return click(label.querySelector('input'));
        return click(document.getElementById('subbtn'));""",
    # ---- typing -------------------------------------------------------------------------
    "enter-text": "return fillThenSubmit([[document.getElementById('tt'), q().match(/Enter \"(.*)\" into/)[1]]]);",
    "enter-text-2": """const w = txt(document.querySelector('#query .bold'));
        return fillThenSubmit([['#tt', /upper/.test(q()) ? w.toUpperCase() : w.toLowerCase()]]);""",
    "enter-text-dynamic": "return fillThenSubmit([['#tt', quoted()]]);",
    "enter-password": "return fillThenSubmit([['#password', quoted()], ['#verify', quoted()]]);",
    "login-user": """const u = q().match(/username "([^"]*)"/)[1], p = q().match(/password "([^"]*)"/)[1];
        return fillThenSubmit([['#username', u], ['#password', p]]);""",
    "find-word": """const k = parseInt(q().match(/(\\d+)(st|nd|rd|th) word/)[1]) - 1;
        const w = txt(document.querySelector('#area p')).split(' ')[k].replace(/[^a-zA-Z]/g, '');
        return fillThenSubmit([['#answer-input', w]]);""",
    "read-table": """const key = txt(document.querySelector('#query .bold'));
        const row = $$('#tab tr').find(r => txt(r.children[0]) === key);
        return fillThenSubmit([['#tt', txt(row.children[1])]]);""",
    "simple-arithmetic": """const m = txt(document.getElementById('math-problem')).match(/(-?\\d+) (\\S) (-?\\d+)/);
        const a = +m[1], b = +m[3]; const v = m[2] === '+' ? a + b : m[2] === '-' ? a - b : a * b;
        return fillThenSubmit([['#math-answer', String(v)]]);""",
    "simple-algebra": """const p = txt(document.getElementById('math-problem'));
        let m, v;
        if ((m = p.match(/^x ([+-]) (\\d+) = (\\d+)$/))) v = m[1] === '+' ? +m[3] - +m[2] : +m[3] + +m[2];
        else { m = p.match(/^(\\d+) ([+-]) x = (\\d+)$/); v = m[2] === '+' ? +m[3] - +m[1] : +m[1] - +m[3]; }
        return fillThenSubmit([['#math-answer', String(v)]]);""",
    "text-transform": "return fillThenSubmit([['#tt', $$('#captcha span').map(s => s.textContent).join('')]]);",
    "copy-paste": "return fillThenSubmit([['#answer-input', document.getElementById('to-copy').value]]);",
    "scroll-text": """const words = document.getElementById('text-area').value.split(/\\s/g);
        return fillThenSubmit([['#answer-input', words[words.length - 1].replace('.', '')]]);""",
    "use-autocomplete": """const f = $$('#query .bold')[0].textContent, e = $$('#query .bold')[1];
        const item = ui_utils.COUNTRIES.find(c => c.startsWith(f) && (!e || c.endsWith(e.textContent)));
        const box = document.getElementById('tags');
        if (box.value !== item) return fill(box, item);
        if ($$('.ui-autocomplete').some(vis)) return {verb: 'press', key: 'Escape'};
        return click(document.getElementById('subbtn'));""",
    "form-sequence-2": """const pos = [...q().matchAll(/(\\d)(st|nd|rd)/g)].map(m => m[1]);
        const num = q().match(/number "(-?\\d+)"/)[1];
        const radio = $$('#area input[type=radio]').find(r => r.value === pos[0]);
        if (!radio.checked) return click(radio);
        return fillThenSubmit([['#input-' + pos[1], num]]);""",
    "multi-orderings": """const b = $$('#query b').map(txt);
        const box = name => { const th = $$('#area th').find(t => txt(t) === name); return th.parentElement.querySelector('input'); };
        const fields = [[box('Genre'), b[0]], [box('Director'), b[1]], [box('Year'), b[2]]];
        for (const [el, v] of fields) if (el.value !== v) return fill(el, v);
        return click($$('#area .final')[0]);""",
    # ---- drop-downs, dates, times, spinners ---------------------------------------------
    "choose-list": """const item = q().match(/^Select (.*) from the list/)[1];
        const sel = document.querySelector('#area select');
        if (sel.value !== item) return {verb: 'select', el: sel, text: item};
        return click($$('#area button')[0]);""",
    "enter-date": """const [mm, dd, yy] = txt(document.querySelector('#query .bold')).split('/');
        return fillThenSubmit([['#tt', yy + '-' + mm + '-' + dd]]);""",
    "enter-time": """const m = q().match(/Enter (\\d+):(\\d+) ?(AM|PM) as/);
        let h = +m[1] % 12; if (m[3] === 'PM') h += 12;
        return fillThenSubmit([['#tt', String(h).padStart(2, '0') + ':' + m[2]]]);""",
    "choose-date": "return datepicker();",
    "choose-date-easy": "return datepicker();",
    "choose-date-medium": "return datepicker();",
    "choose-date-nodelay": "return datepicker();",
    "use-spinner": """const n = parseInt(q().match(/Select (-?\\d+) with/)[1]);
        const v = parseInt(document.getElementById('spinner').value);
        if (v < n) return click($$('.ui-spinner-up')[0]);
        if (v > n) return click($$('.ui-spinner-down')[0]);
        return click(document.getElementById('subbtn'));""",
    # ---- scrolling and dragging ---------------------------------------------------------
    "scroll-text-2": """const ta = document.getElementById('text-area'), bottom = /bottom/.test(q());
        const done = bottom ? Math.abs(ta.offsetHeight + ta.scrollTop - ta.scrollHeight) < 10 : ta.scrollTop < 10;
        if (done) return click(document.getElementById('subbtn'));
        if (document.activeElement !== ta) return click(ta);
        return {verb: 'press', key: bottom ? 'Control+End' : 'Control+Home'};""",
    "drag-items": """const items = $$('#sortable li'), n = items.length, query = q();
        const name = query.match(/^Drag (.*?) (to the|down by|up by)/)[1];
        const from = items.findIndex(li => txt(li) === name);
        let to;
        if (/to the top/.test(query)) to = 0; else if (/to the bottom/.test(query)) to = n - 1;
        else if (/down by one/.test(query)) to = from + 1; else if (/up by one/.test(query)) to = from - 1;
        else to = parseInt(query.match(/to the (\\d)/)[1]) - 1;
        return {verb: 'drag', el: items[from], to: items[to]};""",
}

ORACLES = {name: _page(body) for name, body in PAGES.items()}
