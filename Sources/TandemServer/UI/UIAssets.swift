/// The web UI's only stylesheet and script, embedded (no build step, no CDN, no web fonts), served with long cache
/// headers under a versioned name.
enum UIAssets {
    /// Bumped when either file changes, so browsers holding the old one fetch the new.
    static let version = "3"
    static var stylesheetPath: String { "/ui/app.css?v=\(Self.version)" }
    static var scriptPath: String { "/ui/app.js?v=\(Self.version)" }

    static let stylesheet = #"""
        :root {
          --bg: #f5f6fa; --panel: #ffffff; --panel-2: #f0f2f7; --text: #1d2330; --muted: #667085; --border: #e3e6ee;
          --accent: #4f5bd5; --accent-2: #6d78f0; --accent-text: #ffffff; --nav: #171b2e; --nav-text: #c9cdea; --nav-active: #2a3052;
          --ok: #1f9d63; --ok-bg: #e3f6ec; --warn: #b7791f; --warn-bg: #fdf3e0; --err: #d64545; --err-bg: #fde8e8;
          --info: #3b6fd4; --info-bg: #e6eefc; --idle: #7a8194; --idle-bg: #eef0f4;
          --shadow: 0 1px 2px rgba(16,24,40,.06), 0 1px 3px rgba(16,24,40,.08); --radius: 10px;
          --bar: #6d78f0; --bar-prev: #c5cae9; --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
          color-scheme: light dark;
        }
        @media (prefers-color-scheme: dark) {
          :root {
            --bg: #0f1220; --panel: #171b2e; --panel-2: #1e2338; --text: #e6e8f2; --muted: #9aa0b8; --border: #2a3050;
            --accent: #7c86ff; --accent-2: #9aa2ff; --accent-text: #0f1220; --nav: #0b0e1a; --nav-text: #aab0d0; --nav-active: #20263f;
            --ok: #4cc38a; --ok-bg: #133226; --warn: #e0a84a; --warn-bg: #35290f; --err: #f07171; --err-bg: #3a1618;
            --info: #79a2f2; --info-bg: #162542; --idle: #9aa0b8; --idle-bg: #23283d; --bar: #7c86ff; --bar-prev: #3b4270;
            --shadow: 0 1px 2px rgba(0,0,0,.4);
          }
        }
        * { box-sizing: border-box; }
        html, body { margin: 0; height: 100%; }
        body { font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
          background: var(--bg); color: var(--text); }
        a { color: var(--accent); text-decoration: none; } a:hover { text-decoration: underline; }
        code, .mono { font-family: var(--mono); font-size: 12.5px; }
        .shell { display: grid; grid-template-columns: 232px 1fr; min-height: 100vh; }
        nav.side { background: var(--nav); color: var(--nav-text); padding: 18px 12px; position: sticky; top: 0; height: 100vh;
          display: flex; flex-direction: column; gap: 2px; }
        nav.side .brand { display: flex; align-items: center; gap: 10px; color: #fff; font-weight: 700; font-size: 17px; padding: 4px 10px 18px; }
        nav.side .brand svg { flex: none; }
        nav.side .group { font-size: 11px; text-transform: uppercase; letter-spacing: .08em; color: #6f76a0; padding: 14px 10px 4px; }
        nav.side a { color: var(--nav-text); padding: 7px 10px; border-radius: 7px; display: flex; gap: 10px; align-items: center; }
        nav.side a:hover { background: var(--nav-active); text-decoration: none; color: #fff; }
        nav.side a.active { background: var(--nav-active); color: #fff; box-shadow: inset 3px 0 0 var(--accent-2); }
        nav.side .spacer { flex: 1; }
        nav.side .me { border-top: 1px solid #262b45; padding: 12px 10px 0; font-size: 13px; }
        nav.side .me form { display: inline; }
        nav.side .me button { background: none; border: 0; color: var(--nav-text); padding: 0; cursor: pointer; font: inherit; text-decoration: underline; }
        main { padding: 26px 34px 60px; max-width: 1320px; width: 100%; }
        header.page { display: flex; align-items: flex-end; justify-content: space-between; gap: 16px; margin-bottom: 20px; flex-wrap: wrap; }
        header.page h1 { margin: 0; font-size: 23px; letter-spacing: -.01em; }
        header.page .sub { color: var(--muted); margin-top: 2px; }
        header.page .actions { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
        .crumbs { font-size: 12.5px; color: var(--muted); margin-bottom: 4px; }
        .card { background: var(--panel); border: 1px solid var(--border); border-radius: var(--radius); box-shadow: var(--shadow); margin-bottom: 20px; }
        .card > h2, .card > .head { margin: 0; padding: 14px 18px; font-size: 15px; border-bottom: 1px solid var(--border);
          display: flex; justify-content: space-between; align-items: center; gap: 12px; }
        .card > .body { padding: 16px 18px; }
        .grid { display: grid; gap: 16px; }
        .grid.stats { grid-template-columns: repeat(auto-fill, minmax(190px, 1fr)); margin-bottom: 20px; }
        .grid.two { grid-template-columns: repeat(auto-fit, minmax(380px, 1fr)); }
        .stat { background: var(--panel); border: 1px solid var(--border); border-radius: var(--radius); padding: 16px 18px; box-shadow: var(--shadow); }
        .stat .label { color: var(--muted); font-size: 12.5px; text-transform: uppercase; letter-spacing: .05em; }
        .stat .value { font-size: 28px; font-weight: 700; margin-top: 2px; }
        .stat .note { font-size: 12.5px; color: var(--muted); }
        a.stat { display: block; color: inherit; } a.stat:hover { text-decoration: none; border-color: var(--accent); }
        .stat.err .value { color: var(--err); } .stat.ok .value { color: var(--ok); }
        .table-wrap { overflow: auto; max-height: 70vh; border-radius: 0 0 var(--radius) var(--radius); }
        table { width: 100%; border-collapse: separate; border-spacing: 0; }
        th, td { text-align: left; padding: 9px 14px; border-bottom: 1px solid var(--border); vertical-align: top; }
        thead th { position: sticky; top: 0; background: var(--panel-2); font-size: 12px; text-transform: uppercase; letter-spacing: .05em;
          color: var(--muted); font-weight: 600; z-index: 1; }
        tbody tr:hover td { background: color-mix(in srgb, var(--accent) 5%, transparent); }
        tbody tr:last-child td { border-bottom: 0; }
        td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
        td.check, th.check { width: 34px; }
        .badge { display: inline-flex; align-items: center; gap: 5px; padding: 1px 9px; border-radius: 999px; font-size: 12px; font-weight: 600;
          background: var(--idle-bg); color: var(--idle); white-space: nowrap; }
        .badge::before { content: ""; width: 6px; height: 6px; border-radius: 50%; background: currentColor; }
        .badge.ok { background: var(--ok-bg); color: var(--ok); } .badge.err { background: var(--err-bg); color: var(--err); }
        .badge.warn { background: var(--warn-bg); color: var(--warn); } .badge.info { background: var(--info-bg); color: var(--info); }
        .badge.plain::before { display: none; }
        .btn { display: inline-flex; align-items: center; gap: 6px; border: 1px solid var(--border); background: var(--panel); color: var(--text);
          padding: 7px 14px; border-radius: 8px; font: inherit; font-weight: 600; cursor: pointer; text-decoration: none; line-height: 1.3; }
        .btn:hover { border-color: var(--accent); text-decoration: none; }
        .btn.primary { background: var(--accent); border-color: var(--accent); color: var(--accent-text); }
        .btn.primary:hover { background: var(--accent-2); }
        .btn.danger { color: var(--err); } .btn.danger:hover { border-color: var(--err); }
        .btn.small { padding: 3px 10px; font-size: 12.5px; }
        .btn[disabled] { opacity: .45; cursor: not-allowed; }
        form.inline { display: inline; }
        .empty { text-align: center; padding: 42px 20px; color: var(--muted); }
        .empty .icon { font-size: 30px; opacity: .6; }
        .empty h3 { color: var(--text); margin: 6px 0 4px; font-size: 16px; }
        .notice { padding: 11px 16px; border-radius: 8px; margin-bottom: 16px; border: 1px solid; }
        .notice.ok { background: var(--ok-bg); color: var(--ok); border-color: color-mix(in srgb, var(--ok) 30%, transparent); }
        .notice.err { background: var(--err-bg); color: var(--err); border-color: color-mix(in srgb, var(--err) 30%, transparent); }
        .notice.warn { background: var(--warn-bg); color: var(--warn); border-color: color-mix(in srgb, var(--warn) 30%, transparent); }
        .form { display: grid; gap: 14px; max-width: 760px; }
        .form .row { display: grid; grid-template-columns: 1fr 1fr; gap: 14px; }
        label.field { display: flex; flex-direction: column; gap: 5px; font-weight: 600; font-size: 13px; }
        label.field .hint { font-weight: 400; color: var(--muted); font-size: 12px; }
        label.check { display: inline-flex; gap: 7px; align-items: center; font-weight: 500; }
        input[type=text], input[type=password], input[type=number], input[type=search], input[type=date], select, textarea {
          font: inherit; color: var(--text); background: var(--panel); border: 1px solid var(--border); border-radius: 7px; padding: 7px 10px; width: 100%; }
        textarea { min-height: 90px; font-family: var(--mono); font-size: 12.5px; }
        textarea.json { line-height: 1.45; tab-size: 2; white-space: pre; overflow-wrap: normal; overflow-x: auto; resize: vertical; }
        .grid.json-editor { grid-template-columns: minmax(0, 2fr) minmax(260px, 1fr); align-items: start; }
        @media (max-width: 1000px) { .grid.json-editor { grid-template-columns: 1fr; } }
        dl.facts.members { grid-template-columns: max-content 1fr; font-size: 13px; }
        .card .tabs + .body { padding-top: 16px; }
        details.changes summary { cursor: pointer; color: var(--accent); }
        pre.token { font-family: var(--mono); font-size: 13px; background: var(--panel); color: var(--text); border: 1px solid var(--border);
          border-radius: 7px; padding: 10px 12px; margin: 10px 0; user-select: all; overflow-x: auto; }
        nav.side .me a { color: #fff; padding: 0; display: inline; }
        table.diff { margin-top: 8px; border: 1px solid var(--border); border-radius: 7px; font-size: 12.5px; }
        table.diff th, table.diff td { padding: 5px 8px; vertical-align: top; text-transform: none; letter-spacing: 0; }
        table.diff td code { white-space: pre-wrap; word-break: break-word; }
        input:focus, select:focus, textarea:focus { outline: 2px solid color-mix(in srgb, var(--accent) 45%, transparent); border-color: var(--accent); }
        .invalid input, .invalid select, .invalid textarea, input.invalid, select.invalid { border-color: var(--err); background: var(--err-bg); }
        .field-error { color: var(--err); font-weight: 500; font-size: 12.5px; }
        td form.inline select, .flow-table select { width: auto; padding: 3px 6px; }
        table.edit td { padding: 5px 8px; } table.edit input, table.edit select { padding: 5px 8px; }
        .layout-filter { display: grid; grid-template-columns: 230px 1fr; gap: 20px; align-items: start; }
        .filters { position: sticky; top: 16px; }
        .filters .body { display: grid; gap: 14px; }
        .filters .status-list a { display: flex; justify-content: space-between; padding: 5px 10px; border-radius: 7px; color: var(--text); }
        .filters .status-list a.active { background: var(--panel-2); font-weight: 700; }
        .filters .status-list a:hover { background: var(--panel-2); text-decoration: none; }
        .count { color: var(--muted); font-variant-numeric: tabular-nums; }
        details.menu { position: relative; }
        details.menu.set-password { display: inline-block; }
        details.set-password .items { padding: 12px; min-width: 280px; text-align: left; }
        details.set-password .items button.btn { display: inline-flex; width: auto; background: var(--accent); color: var(--accent-text); margin-top: 8px; }
        details.menu > summary { list-style: none; cursor: pointer; }
        details.menu > summary::-webkit-details-marker { display: none; }
        details.menu .items { position: absolute; right: 0; top: calc(100% + 6px); background: var(--panel); border: 1px solid var(--border);
          border-radius: 9px; box-shadow: 0 10px 30px rgba(0,0,0,.18); min-width: 260px; padding: 6px; z-index: 5; }
        details.menu .items button { display: block; width: 100%; text-align: left; background: none; border: 0; padding: 8px 11px; border-radius: 6px;
          font: inherit; color: var(--text); cursor: pointer; }
        details.menu .items button:hover:not([disabled]) { background: var(--panel-2); }
        details.menu .items button[disabled] { opacity: .4; cursor: not-allowed; }
        details.menu .items .hint { font-size: 12px; color: var(--muted); padding: 6px 11px 2px; }
        dl.facts { display: grid; grid-template-columns: 180px 1fr; gap: 8px 16px; margin: 0; }
        dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; word-break: break-word; }
        .flow-table td, .flow-table th { text-align: center; vertical-align: middle; }
        .flow-table td.l { text-align: right; } .flow-table td.r { text-align: left; }
        .flow-table td.model { font-weight: 700; background: var(--panel-2); }
        .flow-table select { width: auto; }
        .constant { display: inline-block; background: var(--idle-bg); color: var(--idle); border-radius: 5px; padding: 0 7px; font-size: 12px; }
        .flow-table tr.unmapped { display: none; }
        .flows:has(#show-unmapped:checked) tr.unmapped { display: table-row; }
        .chart { width: 100%; height: auto; display: block; }
        .chart text { fill: var(--muted); font-size: 11px; font-family: system-ui, sans-serif; }
        .chart .grid-line { stroke: var(--border); }
        .chart .bar-now { fill: var(--bar); } .chart .bar-prev { fill: var(--bar-prev); }
        .chart .bubble { fill: var(--bar); fill-opacity: .75; }
        .legend { display: flex; gap: 16px; font-size: 12.5px; color: var(--muted); }
        .legend i.swatch-now { background: var(--bar); } .legend i.swatch-prev { background: var(--bar-prev); }
        .legend i { display: inline-block; width: 11px; height: 11px; border-radius: 3px; margin-right: 5px; vertical-align: -1px; }
        .delta.up { color: var(--ok); } .delta.down { color: var(--err); }
        .tabs { display: flex; gap: 4px; border-bottom: 1px solid var(--border); padding: 0 12px; }
        .tabs a { padding: 10px 14px; color: var(--muted); border-bottom: 2px solid transparent; font-weight: 600; }
        .tabs a.active { color: var(--text); border-bottom-color: var(--accent); }
        .login { min-height: 100vh; display: grid; place-items: center; padding: 20px;
          background: radial-gradient(1200px 600px at 10% -10%, color-mix(in srgb, var(--accent) 22%, transparent), transparent), var(--bg); }
        .login .card { width: 100%; max-width: 380px; }
        .login .brand { display: flex; gap: 10px; align-items: center; justify-content: center; font-size: 22px; font-weight: 800; margin-bottom: 16px; }
        .muted { color: var(--muted); } .nowrap { white-space: nowrap; } .right { text-align: right; }
        .error-page { text-align: center; padding: 60px 20px; } .error-page .code { font-size: 64px; font-weight: 800; color: var(--accent); }
        @media (max-width: 900px) {
          .shell { grid-template-columns: 1fr; } nav.side { position: static; height: auto; flex-direction: row; flex-wrap: wrap; }
          nav.side .group, nav.side .spacer { display: none; } .layout-filter { grid-template-columns: 1fr; } main { padding: 18px; }
          .form .row { grid-template-columns: 1fr; }
        }
        """#

    static let script = #"""
        // Tandem web UI: select-all checkboxes, confirmations, and the bulk menu's enabled actions. Everything works without it.
        document.addEventListener("change", function (e) {
          var t = e.target;
          if (t.matches && t.matches("input[data-select-all]")) {
            document.querySelectorAll("input[name='" + t.getAttribute("data-select-all") + "']").forEach(function (c) { c.checked = t.checked; });
          }
          updateBulk();
        });
        document.addEventListener("submit", function (e) {
          var b = e.submitter, f = e.target;
          var msg = (b && b.getAttribute("data-confirm")) || f.getAttribute("data-confirm");
          if (msg && !window.confirm(msg)) e.preventDefault();
        });
        function updateBulk() {
          var boxes = Array.prototype.slice.call(document.querySelectorAll("input[name='id']:checked"));
          var allErrors = boxes.length > 0 && boxes.every(function (c) { return c.getAttribute("data-error") === "1"; });
          document.querySelectorAll("[data-needs-selection]").forEach(function (b) { b.disabled = boxes.length === 0; });
          document.querySelectorAll("[data-needs-errors]").forEach(function (b) { b.disabled = !allErrors; });
          var n = document.querySelector("[data-selected-count]"); if (n) n.textContent = boxes.length;
        }
        document.addEventListener("DOMContentLoaded", updateBulk);
        """#
}
