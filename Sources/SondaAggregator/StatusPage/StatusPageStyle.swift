/// The status page's inline stylesheet. States are told by an icon and a word as well as by
/// colour; text on every tint keeps a contrast ratio of at least 4.5:1.
enum StatusPageStyle {
    static let css = """
        :root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#f6f8fa;--card:#fff;
        --ok-bg:#dafbe1;--ok:#116329;--deg-bg:#fff1c2;--deg:#6f4400;--bad-bg:#ffdcd7;--bad:#a40e26;
        --none-bg:#eaeef2;--none:#59636e;--info-bg:#ddf4ff;--info:#0550ae;
        --seg-ok:#2da44e;--seg-deg:#d4a72c;--seg-bad:#cf222e;--seg-none:#d1d9e0}
        *{box-sizing:border-box}
        body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;
        color:var(--fg);background:var(--bg)}
        a{color:#0969da;text-decoration:none}a:hover{text-decoration:underline}
        header.top{background:#1f2328;color:#f0f3f6;padding:12px 16px}
        header.top a{color:#9ecbff}
        .bar{display:flex;flex-wrap:wrap;align-items:baseline;gap:4px 16px;max-width:1400px;margin:0 auto}
        .bar h1{font-size:18px;margin:0}.bar .meta{color:#b7bdc8;font-size:12px}
        .tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:8px;
        max-width:1400px;margin:10px auto 0}
        .tile{background:#2d333b;border-radius:6px;padding:8px 12px}
        .tile b{display:block;font-size:22px;line-height:1.2;font-variant-numeric:tabular-nums}
        .tile span{font-size:12px;color:#b7bdc8}
        .tile.bad{background:#8c1a26}.tile.deg{background:#6f4400}.tile.ok b::before{content:"✓ ";color:#6fdd8b}
        main{max-width:1400px;margin:0 auto;padding:12px}
        section{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:12px 14px;margin:0 0 14px}
        section>h2{font-size:15px;margin:0 0 8px;display:flex;flex-wrap:wrap;gap:6px 12px;align-items:baseline}
        section>h2 small{font-weight:normal;color:var(--muted);font-size:12px}
        .note{color:var(--muted);font-size:12px;margin:6px 0 0}
        .scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}
        table{border-collapse:collapse;font-variant-numeric:tabular-nums;width:100%}
        th,td{padding:5px 8px;text-align:left;vertical-align:top;border-bottom:1px solid var(--line);white-space:nowrap}
        th{font-size:12px;color:var(--muted);font-weight:600}
        td.num,th.num{text-align:right}
        td.wrap{white-space:normal;min-width:220px}
        .pills{display:inline-flex;gap:4px;flex-wrap:wrap}
        .pills a,.pills b{font-size:12px;padding:1px 9px;border-radius:999px;border:1px solid var(--line);font-weight:normal}
        .pills b{background:#1f2328;color:#fff;border-color:#1f2328}
        .heat td.cell{min-width:118px;border:2px solid var(--card);border-radius:6px;padding:4px 8px;line-height:1.25}
        .heat td.cell b{font-size:15px}.heat td.cell small{display:block;font-size:11px;opacity:.9}
        .heat tr.region th{background:var(--bg);font-size:13px;color:var(--fg);padding-top:8px}
        .heat tbody tr:not(.region) th{position:sticky;left:0;background:var(--card);z-index:1;font-weight:500}
        .s-ok{background:var(--ok-bg);color:var(--ok)}.s-degraded{background:var(--deg-bg);color:var(--deg)}
        .s-violated{background:var(--bad-bg);color:var(--bad)}.s-no-data{background:var(--none-bg);color:var(--none)}
        .s-no-budget{background:var(--info-bg);color:var(--info)}
        .badge{display:inline-block;font-size:11px;font-weight:600;padding:0 7px;border-radius:999px;white-space:nowrap}
        .legend{display:flex;flex-wrap:wrap;gap:6px;margin-top:8px}
        .checks{display:grid;grid-template-columns:repeat(auto-fill,minmax(330px,1fr));gap:10px}
        .check{border:1px solid var(--line);border-radius:6px;padding:8px 10px}
        .check h3{font-size:14px;margin:0;display:flex;justify-content:space-between;gap:8px;flex-wrap:wrap}
        .check h3 small{font-weight:normal;color:var(--muted)}
        .uptime{display:grid;grid-template-columns:34px 1fr 62px;gap:2px 8px;align-items:center;margin-top:4px;font-size:12px}
        .uptime svg{width:100%;height:18px;display:block}
        .uptime .num{text-align:right;font-variant-numeric:tabular-nums}
        .seg-ok{fill:var(--seg-ok)}.seg-degraded{fill:var(--seg-deg)}.seg-violated{fill:var(--seg-bad)}.seg-no-data{fill:var(--seg-none)}
        .meter{height:6px;background:var(--none-bg);border-radius:3px;overflow:hidden;margin-top:6px}
        .meter i{display:block;height:100%}
        .alerts{list-style:none;margin:0;padding:0}
        .alerts li{display:flex;flex-wrap:wrap;gap:4px 10px;align-items:baseline;padding:7px 8px;border-left:5px solid;
        border-radius:4px;margin-bottom:6px;background:var(--bg)}
        .sev-critical{border-color:#a40e26}.sev-high{border-color:#bc4c00}.sev-medium{border-color:#9a6700}.sev-low{border-color:#0969da}
        .sevb-critical{background:#a40e26;color:#fff}.sevb-high{background:#bc4c00;color:#fff}
        .sevb-medium{background:#fff1c2;color:#6f4400}.sevb-low{background:#ddf4ff;color:#0550ae}
        .labels{color:var(--muted);font-size:12px}
        tr.silent td{background:var(--bad-bg)}
        .empty{color:var(--muted);margin:4px 0}
        .charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(320px,1fr));gap:12px}
        .chart h3{font-size:13px;margin:0 0 2px}
        .chart svg{width:100%;height:auto;display:block}
        .chart text{font-size:12px;fill:var(--muted)}
        .chart .grid{stroke:#eaeef2}.chart .axis{stroke:var(--line)}
        .chart .p50{stroke:#0969da;fill:none;stroke-width:2}.chart .p95{stroke:#bc4c00;fill:none;stroke-width:2;stroke-dasharray:6 3}
        .chart .limit{stroke:#a40e26;stroke-dasharray:2 3;stroke-width:1.5}
        .key{display:flex;gap:14px;font-size:12px;color:var(--muted);margin-bottom:8px;flex-wrap:wrap}
        .key i{display:inline-block;width:22px;height:0;border-top:2px solid;vertical-align:middle;margin-right:4px}
        code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;background:var(--bg);padding:0 4px;border-radius:4px}
        footer{max-width:1400px;margin:0 auto;padding:4px 12px 24px;color:var(--muted);font-size:12px}
        @media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9aa3ad;--line:#3d444d;--bg:#0d1117;--card:#151b23;
        --ok-bg:#12361f;--ok:#7ee2a0;--deg-bg:#3a2d06;--deg:#f2cc60;--bad-bg:#4c1419;--bad:#ffa198;
        --none-bg:#262c36;--none:#9aa3ad;--info-bg:#0c2d6b;--info:#a5d6ff;--seg-none:#3d444d}
        a{color:#4493f8}.pills b{background:#e6edf3;color:#0d1117;border-color:#e6edf3}
        .chart .grid{stroke:#262c36}header.top{background:#010409}.tile{background:#1f2630}}
        @media (max-width:600px){main{padding:8px}section{padding:10px}.tile b{font-size:18px}
        .heat tbody th{white-space:normal;max-width:92px}.heat td.cell{min-width:104px}}
        """
}
